const PREFIX = 'layer:';

/**
 * The owner a layer version's policy is filed (and announced on the change feed) under. Function
 * names never hold a colon, so these never meet a function's name.
 */
export function layerPolicyOwner(layerName: string): string {
  return `${PREFIX}${layerName}`;
}

export function isLayerPolicyOwner(owner: string): boolean {
  return owner.startsWith(PREFIX);
}
