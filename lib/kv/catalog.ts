/** The image catalog: image tag → OpenClaw version, available or not. */
import { keys } from "./keys.ts";
import { UnprocessableError } from "../errors.ts";
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

/**
 * An instance runs only tags the catalog knows (retired ones included): 422
 * naming each unknown tag and how to add it.
 */
export async function requireCatalogTags(
  kv: Deno.Kv,
  tags: Record<string, string | null>,
): Promise<void> {
  const fields = Object.entries(tags).filter(([, tag]) => tag !== null) as [
    string,
    string,
  ][];
  const entries = await kv.getMany<CatalogEntry[]>(
    fields.map(([, tag]) => keys.catalogEntry(tag)),
  );
  const missing = fields.filter((_, i) => entries[i].value === null);
  if (missing.length === 0) return;
  const how = (tag: string) =>
    `add it first on the Catalog page or with PUT /api/admin/catalog/${tag}`;
  throw new UnprocessableError(
    missing.map(([, tag]) => `image tag ${tag} is not in the catalog`).join(
      "; ",
    ) + `: ${how(missing[0][1])}`,
    missing.map(([path, tag]) => ({
      path,
      message: `${tag} is not in the catalog; ${how(tag)}`,
    })),
  );
}
