/** The image catalog: image tag → OpenClaw version, available or not; the admin's body for a tag. */
import { z } from "zod";
import { keys } from "./keys.ts";
import { conditionalWrite } from "./conditional_write.ts";
import { addAuditWrite } from "./audit.ts";
import { UnprocessableError } from "../errors.ts";
import { textField } from "../text.ts";
import type { AuditEntry, CatalogEntry } from "../types.ts";

export const IMAGE_TAG_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

/** An image tag as the admin endpoints take it (in a path or a body). */
export const ImageTagSchema = z.string().trim().min(1, "required").max(128)
  .regex(
    IMAGE_TAG_PATTERN,
    "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'",
  );

/** `PUT /api/admin/catalog/:imageTag` and the catalog page's form. */
export const CatalogPutSchema = z.strictObject({
  openclawVersion: textField({ min: 1, max: 64 }),
  available: z.boolean().optional(),
});

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
  /** The audit entry of this change, written in the same atomic operation. */
  audit?: (prev: CatalogEntry | null, next: CatalogEntry) => AuditEntry,
): Promise<CatalogEntry> {
  return await conditionalWrite(`catalog entry ${imageTag}`, async () => {
    const cur = await kv.get<CatalogEntry>(keys.catalogEntry(imageTag));
    const prev = cur.value;
    const entry: CatalogEntry = {
      imageTag,
      openclawVersion: input.openclawVersion,
      available: input.available ?? prev?.available ?? true,
      updatedAt: new Date(now).toISOString(),
    };
    return {
      write: () => {
        const op = kv.atomic().check(cur).set(
          keys.catalogEntry(imageTag),
          entry,
        );
        if (audit) addAuditWrite(op, audit(prev, entry));
        return op;
      },
      result: entry,
    };
  });
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
