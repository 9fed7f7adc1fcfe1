import { once } from "node:events";
import { createServer } from "node:http";
import sharp from "sharp";
import { type GridFile, readChunks } from "./grid-store.ts";

/** A 1200×800 PNG, made by sharp. */
export function productImage(): Promise<Buffer> {
  const background = { r: 200, g: 80, b: 40 };
  return sharp({ create: { width: 1200, height: 800, channels: 3, background } })
    .png()
    .toBuffer();
}

/** What the files plugin's transforms make of a 1200×800 PNG (`setUpFileCollections.js`). */
export const EXPECTED_SIZES = {
  image: { format: "jpeg", width: 1200, height: 800 },
  large: { format: "jpeg", width: 1000, height: 667 },
  medium: { format: "jpeg", width: 600, height: 400 },
  small: { format: "png", width: 235, height: 235 },
  thumbnail: { format: "png", width: 100, height: 100 },
};

/**
 * An image host on 127.0.0.1 answering every path with `image` (HEAD with its headers only,
 * as `FileRecord.fromUrl` asks first): where a product's remote image URL points.
 */
export async function startImageServer(
  image: Buffer,
): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(200, {
      "content-type": "image/png",
      "content-length": image.length,
      "last-modified": new Date().toUTCString(),
    });
    res.end(req.method === "HEAD" ? undefined : image);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface MediaRecords {
  findOne(filter: object): Promise<Record<string, unknown> | null>;
}

/** Each store's copy of a media record, read back from GridFS and measured by sharp. */
export async function storedSizes(
  db: Parameters<typeof readChunks>[0],
  mediaRecords: MediaRecords,
  mediaId: string,
): Promise<Record<string, { format?: string; width?: number; height?: number }>> {
  const record = (await mediaRecords.findOne({ _id: mediaId })) as {
    copies?: Record<string, { key: string }>;
  } | null;
  const sizes: Record<string, { format?: string; width?: number; height?: number }> = {};
  for (const [store, copy] of Object.entries(record?.copies ?? {})) {
    const root = `cfs_gridfs.${store}`;
    const file = (await db
      .collection(`${root}.files`)
      .findOne({ _id: copy.key })) as unknown as GridFile | null;
    if (!file) throw new Error(`GridFS ${root} has no file ${copy.key} for media ${mediaId}`);
    const bytes = await readChunks(db, root, file._id);
    if (bytes.length !== file.length) {
      throw new Error(`GridFS ${root} file ${file._id}: ${bytes.length} bytes of ${file.length}`);
    }
    const { format, width, height } = await sharp(bytes).metadata();
    sizes[store] = { format, width, height };
  }
  return sizes;
}

/**
 * Uploads a file as Reaction's admin UI does (tus 1.0: a POST, then one PATCH to the
 * Location it answers) and resolves its temp store id.
 */
export async function tusUpload(endpoint: string, bytes: Buffer, name: string): Promise<string> {
  const metadata = [
    `type ${Buffer.from("image/png").toString("base64")}`,
    `name ${Buffer.from(name).toString("base64")}`,
  ];
  const created = await fetch(endpoint, {
    method: "POST",
    headers: {
      "Tus-Resumable": "1.0.0",
      "Upload-Length": String(bytes.length),
      "Upload-Metadata": metadata.join(","),
    },
  });
  if (created.status !== 201) throw new Error(`tus POST ${endpoint}: ${created.status}`);
  // tus-node-server answers `//host/<mount path>/uploads/<id>`: the temp store's folder is its path.
  const location = new URL(created.headers.get("location") ?? "", endpoint);
  const patched = await fetch(location, {
    method: "PATCH",
    headers: {
      "Tus-Resumable": "1.0.0",
      "Upload-Offset": "0",
      "Content-Type": "application/offset+octet-stream",
    },
    body: bytes,
  });
  if (patched.status !== 204) throw new Error(`tus PATCH ${location}: ${patched.status}`);
  return location.pathname.split("/").at(-1) as string;
}
