/**
 * PackageType Image: Lambda's rules for functions whose code is a container image, beside the
 * registry's for zips. CreateFunction and UpdateFunctionCode take `Code.ImageUri` (no Runtime,
 * Handler or Layers); `ImageConfig` overrides the image's EntryPoint, Cmd and WorkingDir.
 */
import type { PulledImage, UnpackedCode } from '../code/index.js';
import { InvalidParameterValueException, ValidationException } from '../shared/index.js';
import type { FunctionRecord, ImageSettings } from '../store/index.js';

/** From the AWS SDK model (ImageConfig): list and string lengths. */
export const IMAGE_CONFIG_LIMITS = { entries: 1500, workingDirectory: 1000 } as const;

const NOT_WITH_IMAGE = 'Please don\'t provide Handler or Runtime or Layer when the intended function PackageType is Image.';

export interface ImagePuller {
  pull(uri: string, architecture: string): Promise<PulledImage>;
}

/** What an image pull gives the registry: a code result, plus the fields of an image function. */
export interface ImageCode extends UnpackedCode {
  readonly fields: Partial<FunctionRecord>;
}

/** A checked request to put an image in place; `pull` does the work. */
export interface ImageRequest {
  pull(architecture: string): Promise<ImageCode>;
}

export class ImageFunctions {
  readonly #puller: ImagePuller;

  constructor(puller: ImagePuller) {
    this.#puller = puller;
  }

  /** CreateFunction with PackageType Image. */
  forCreate(body: Record<string, unknown>): ImageRequest {
    if (body['Runtime'] != null || body['Handler'] != null || body['Layers'] != null) {
      throw new InvalidParameterValueException(NOT_WITH_IMAGE);
    }
    const uri = imageUri(body['Code'], 'Please provide ImageUri when the intended function PackageType is Image.');
    const imageConfig = validateImageConfig(body['ImageConfig']);
    return this.#request(uri, imageConfig);
  }

  /** UpdateFunctionCode of an image function: `ImageUri` at the top level of the request. */
  forCodeUpdate(body: Record<string, unknown>): ImageRequest {
    return this.#request(imageUri(body, 'Please provide ImageUri when updating a function with PackageType Image.'));
  }

  /** UpdateFunctionConfiguration: an image function takes ImageConfig, and no Runtime, Handler or Layers. */
  configure(body: Record<string, unknown>): Partial<FunctionRecord> {
    if (body['Runtime'] != null || body['Handler'] != null || body['Layers'] != null) throw new InvalidParameterValueException(NOT_WITH_IMAGE);
    if (body['ImageConfig'] == null) return {};
    // Lambda replaces the whole ImageConfig; an empty one goes back to the image's own settings.
    return { imageConfig: validateImageConfig(body['ImageConfig']) ?? {} };
  }

  #request(uri: string, imageConfig?: ImageSettings): ImageRequest {
    return {
      pull: async (architecture) => {
        const image = await this.#puller.pull(uri, architecture);
        return {
          key: image.key,
          // Lambda reports an image function's CodeSha256 as the manifest's hex digest, and CodeSize 0.
          sha256: image.key,
          size: 0,
          unzippedSize: image.unpackedBytes,
          fields: {
            packageType: 'Image',
            imageUri: uri,
            resolvedImageUri: image.resolvedUri,
            imageDefaults: {
              ...(image.config.entryPoint ? { entryPoint: [...image.config.entryPoint] } : {}),
              ...(image.config.command ? { command: [...image.config.command] } : {}),
              ...(image.config.workingDirectory ? { workingDirectory: image.config.workingDirectory } : {}),
              environment: { ...image.config.environment },
            },
            ...(imageConfig ? { imageConfig } : {}),
          },
        };
      },
    };
  }
}

/** The image support handed to the registry, or Lambda's answer that there is none here. */
export function imageSupport(images: ImageFunctions | undefined): ImageFunctions {
  if (!images) throw new InvalidParameterValueException('PackageType Image is not supported by this Kindling server; upload a .zip file archive.');
  return images;
}

/** UpdateFunctionConfiguration's image part: ImageConfig for an image function, refusals for a zip one. */
export function imageConfigChanges(images: ImageFunctions | undefined, current: FunctionRecord, body: Record<string, unknown>): Partial<FunctionRecord> {
  return current.packageType === 'Image' ? imageSupport(images).configure(body) : (refuseImageFields(body) ?? {});
}

/** A zip function takes no ImageConfig; returns undefined so it reads as "no image" where it is called. */
export function refuseImageFields(body: Record<string, unknown>): undefined {
  if (body['ImageConfig'] != null) throw new InvalidParameterValueException('Please don\'t provide ImageConfig when the intended function PackageType is Zip.');
  return undefined;
}

export function validateImageConfig(value: unknown): ImageSettings | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw ValidationException.constraint(value, 'imageConfig', 'Member must be a structure');
  const entryPoint = stringList(value['EntryPoint'], 'imageConfig.entryPoint');
  const command = stringList(value['Command'], 'imageConfig.command');
  const workingDirectory = value['WorkingDirectory'];
  if (workingDirectory !== undefined && workingDirectory !== null) {
    if (typeof workingDirectory !== 'string') throw ValidationException.constraint(workingDirectory, 'imageConfig.workingDirectory', 'Member must be a string');
    if (workingDirectory.length > IMAGE_CONFIG_LIMITS.workingDirectory) {
      throw ValidationException.constraint(workingDirectory, 'imageConfig.workingDirectory', `Member must have length less than or equal to ${IMAGE_CONFIG_LIMITS.workingDirectory}`);
    }
  }
  return {
    ...(entryPoint ? { entryPoint } : {}),
    ...(command ? { command } : {}),
    ...(typeof workingDirectory === 'string' && workingDirectory !== '' ? { workingDirectory } : {}),
  };
}

/** GetFunction's `Code` for an image function. */
export function imageCodeLocation(record: FunctionRecord): Record<string, unknown> {
  return { RepositoryType: 'ECR', ImageUri: record.imageUri, ResolvedImageUri: record.resolvedImageUri };
}

/** FunctionConfiguration's `ImageConfigResponse`: the function's ImageConfig, when it has one. */
export function imageConfigResponse(record: FunctionRecord): Record<string, unknown> {
  const config = record.imageConfig;
  if (record.packageType !== 'Image' || !config) return {};
  return {
    ImageConfigResponse: {
      ImageConfig: {
        ...(config.entryPoint ? { EntryPoint: config.entryPoint } : {}),
        ...(config.command ? { Command: config.command } : {}),
        ...(config.workingDirectory ? { WorkingDirectory: config.workingDirectory } : {}),
      },
    },
  };
}

function imageUri(code: unknown, missing: string): string {
  if (!isObject(code)) throw new InvalidParameterValueException(missing);
  if (code['ZipFile'] != null || code['S3Bucket'] != null || code['S3Key'] != null) {
    throw new InvalidParameterValueException('Please don\'t provide ZipFile or S3 code when the function PackageType is Image: provide ImageUri.');
  }
  const uri = code['ImageUri'];
  if (uri === undefined || uri === null || uri === '') throw new InvalidParameterValueException(missing);
  if (typeof uri !== 'string') throw ValidationException.constraint(uri, 'code.imageUri', 'Member must be a string');
  return uri;
}

function stringList(value: unknown, member: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw ValidationException.constraint(value, member, 'Member must be a list of strings');
  }
  if (value.length > IMAGE_CONFIG_LIMITS.entries) {
    throw ValidationException.constraint(`[${value.join(', ')}]`, member, `Member must have length less than or equal to ${IMAGE_CONFIG_LIMITS.entries}`);
  }
  return [...value];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
