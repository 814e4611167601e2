/** The image catalog: image tag → OpenClaw version, available or not. */
import { keys } from "./keys.ts";
import type { CatalogEntry } from "../types.ts";

export const IMAGE_TAG_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

export async function getCatalogEntry(
  kv: Deno.Kv,
  imageTag: string,
): Promise<CatalogEntry | null> {
  return (await kv.get<CatalogEntry>(keys.catalogEntry(imageTag))).value;
}

export async function listCatalog(kv: Deno.Kv): Promise<CatalogEntry[]> {
  const out: CatalogEntry[] = [];
  for await (const e of kv.list<CatalogEntry>({ prefix: keys.catalog() })) {
    out.push(e.value);
  }
  return out;
}

export async function putCatalogEntry(
  kv: Deno.Kv,
  imageTag: string,
  input: { openclawVersion: string; available?: boolean },
  now = Date.now(),
): Promise<CatalogEntry> {
  const prev = await getCatalogEntry(kv, imageTag);
  const entry: CatalogEntry = {
    imageTag,
    openclawVersion: input.openclawVersion,
    available: input.available ?? prev?.available ?? true,
    updatedAt: new Date(now).toISOString(),
  };
  await kv.set(keys.catalogEntry(imageTag), entry);
  return entry;
}
