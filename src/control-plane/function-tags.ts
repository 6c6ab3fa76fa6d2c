import type { Caller } from '../identity/index.js';
import { InvalidParameterValueException, ValidationException, parseFunctionRef, type Partition } from '../shared/index.js';
import type { FunctionRegistry } from './function-registry.js';
import { validateTags } from './validation.js';

// Lambda's tag limits ("Tagging Lambda functions"): 50 tags a resource, keys up to 128 characters,
// values up to 256, letters, digits, spaces and `_ . : / = + - @`; the `aws:` prefix is AWS's.
const MAX_TAGS = 50;
const KEY_MAX = 128;
const VALUE_MAX = 256;
const TAG_CHARACTERS = /^[\p{L}\p{N}\s_.:/=+\-@]*$/u;
/** The model's TaggableResource: Kindling has functions of those (no code signing configs, no event source mappings). */
const TAGGABLE = /^arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const TAGGABLE_PATTERN =
  'arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';
const RESOURCE_MAX = 256;

/**
 * TagResource, UntagResource and ListTags on functions. Tags live on the function's record (where
 * CreateFunction put them and GetFunction reads them); the registry writes them in the function's
 * turn. Every check runs before anything is written: a refused request changes nothing.
 */
export class FunctionTags {
  readonly #registry: FunctionRegistry;
  readonly #partition: Partition;

  constructor(deps: { registry: FunctionRegistry; partition: Partition }) {
    this.#registry = deps.registry;
    this.#partition = deps.partition;
  }

  list(caller: Caller, resource: string): { Tags: Record<string, string> } {
    return { Tags: { ...this.#registry.getByName(this.#name(caller, resource)).tags } };
  }

  async tag(caller: Caller, resource: string, body: Record<string, unknown>): Promise<void> {
    const name = this.#name(caller, resource);
    if (body['Tags'] === undefined || body['Tags'] === null) throw ValidationException.constraint('null', 'tags', 'Member must not be null');
    const added = validateTags(body['Tags'])!;
    for (const [key, value] of Object.entries(added)) checkTag(key, value);
    await this.#registry.replaceTags(name, (current) => {
      const tags = { ...current, ...added };
      if (Object.keys(tags).length > MAX_TAGS) throw new InvalidParameterValueException('Number of tags exceeds resource tag limit.');
      return tags;
    });
  }

  async untag(caller: Caller, resource: string, keys: readonly string[]): Promise<void> {
    const name = this.#name(caller, resource);
    if (keys.length === 0) throw ValidationException.constraint('null', 'tagKeys', 'Member must not be null');
    for (const key of keys) {
      if (key.startsWith('aws:')) throw new InvalidParameterValueException(`Tag keys prefixed with 'aws:' are reserved for AWS use: ${key}`);
    }
    await this.#registry.replaceTags(name, (current) => Object.fromEntries(Object.entries(current).filter(([key]) => !keys.includes(key))));
  }

  /** The function a Resource ARN names: this caller's, unqualified (versions and aliases carry no tags). */
  #name(caller: Caller, resource: string): string {
    if (resource.length > RESOURCE_MAX) throw ValidationException.constraint(resource, 'resource', `Member must have length less than or equal to ${RESOURCE_MAX}`);
    if (!TAGGABLE.test(resource)) throw ValidationException.constraint(resource, 'resource', `Member must satisfy regular expression pattern: ${TAGGABLE_PATTERN}`);
    const { name, qualifier } = parseFunctionRef(resource, this.#partition, 'resource', RESOURCE_MAX, caller.accountId);
    if (qualifier !== undefined) {
      throw new InvalidParameterValueException('Tags on function aliases and versions are not supported. Please specify a function ARN.');
    }
    this.#registry.getByName(name);
    return name;
  }
}

function checkTag(key: string, value: string): void {
  if (key.length === 0 || key.length > KEY_MAX) {
    throw new InvalidParameterValueException(`Tag key must be between 1 and ${KEY_MAX} characters long: '${key}'`);
  }
  if (value.length > VALUE_MAX) throw new InvalidParameterValueException(`Tag value must be at most ${VALUE_MAX} characters long (key '${key}')`);
  if (key.startsWith('aws:')) throw new InvalidParameterValueException(`Tag keys prefixed with 'aws:' are reserved for AWS use: ${key}`);
  if (!TAG_CHARACTERS.test(key) || !TAG_CHARACTERS.test(value)) {
    throw new InvalidParameterValueException(`Tag keys and values may hold letters, digits, spaces and _ . : / = + - @ only (key '${key}')`);
  }
}
