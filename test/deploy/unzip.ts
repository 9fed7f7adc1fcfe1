import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { inflateRawSync } from "node:zlib";

/** A zip archive this reader cannot extract; `entry` names the part at fault. */
export class ZipArchiveError extends Error {
  override name = "ZipArchiveError";
  constructor(
    readonly entry: string,
    message: string,
  ) {
    super(message);
  }
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

/**
 * Extracts a zip archive (stored or deflated entries, as the CDK CLI packs a Lambda asset)
 * into `dir`, reading sizes from the central directory as Lambda's own unpacking does. Returns
 * the paths written, relative to `dir`.
 *
 * @example extractZip(readFileSync("code.zip"), "/tmp/task") // ["index.mjs", "index.mjs.map"]
 */
export function extractZip(archive: Buffer, dir: string): string[] {
  let end = archive.length - 22;
  while (end >= 0 && archive.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) end -= 1;
  if (end < 0) throw new ZipArchiveError("archive", "no end of central directory: not a zip");
  const count = archive.readUInt16LE(end + 10);
  let at = archive.readUInt32LE(end + 16);
  const written: string[] = [];
  for (let index = 0; index < count; index += 1) {
    if (archive.readUInt32LE(at) !== CENTRAL_FILE_HEADER)
      throw new ZipArchiveError(`entry ${index}`, "bad central directory header");
    const method = archive.readUInt16LE(at + 10);
    const compressedSize = archive.readUInt32LE(at + 20);
    const nameLength = archive.readUInt16LE(at + 28);
    const extraLength = archive.readUInt16LE(at + 30);
    const commentLength = archive.readUInt16LE(at + 32);
    const localAt = archive.readUInt32LE(at + 42);
    const name = archive.toString("utf8", at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith("/")) continue;
    const path = normalize(name);
    if (path.startsWith("..") || path.startsWith("/"))
      throw new ZipArchiveError(name, `entry ${name} would land outside the folder`);
    if (archive.readUInt32LE(localAt) !== LOCAL_FILE_HEADER)
      throw new ZipArchiveError(name, "bad local file header");
    const dataAt =
      localAt + 30 + archive.readUInt16LE(localAt + 26) + archive.readUInt16LE(localAt + 28);
    const data = archive.subarray(dataAt, dataAt + compressedSize);
    let content: Buffer;
    if (method === 0) content = data;
    else if (method === 8) content = inflateRawSync(data);
    else throw new ZipArchiveError(name, `compression method ${method} is not stored or deflate`);
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
    written.push(path);
  }
  return written;
}
