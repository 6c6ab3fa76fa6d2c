/**
 * The database's clock in epoch ms, for every time the fleet compares (heartbeats, grant expiry):
 * one clock for every machine, so their skew does not matter. clock_timestamp(), not now(): a
 * transaction that waited for a lock must not date its writes from before the wait.
 */
export const DB_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
