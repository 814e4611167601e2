/**
 * Demo data for a first local start: an admin, three users, two image tags,
 * eight instances, and sign-in links printed for the admin and one user.
 */
import { keys } from "./kv/keys.ts";
import { hasAnyUser, putUser } from "./kv/users.ts";
import { putCatalogEntry } from "./kv/catalog.ts";
import { putInstance } from "./kv/instances.ts";
import { createLoginLink } from "./auth/login_links.ts";
import { newId } from "./ids.ts";

export const DEMO_TAGS = [
  { imageTag: "2026.11.1", openclawVersion: "1.8.2" },
  { imageTag: "2026.11.2", openclawVersion: "1.9.0" },
] as const;

export interface SeedResult {
  adminEmail: string;
  userEmail: string;
  adminLink: string;
  userLink: string;
}

/** Seeds only a KV that has never been seeded and holds no users; returns null otherwise. */
export async function seedDemoData(
  kv: Deno.Kv,
  publicUrl: string,
  now = Date.now(),
): Promise<SeedResult | null> {
  const marker = await kv.get(keys.meta("demo_seeded"));
  if (marker.value || (await hasAnyUser(kv))) return null;
  const claimed = await kv.atomic().check(marker).set(
    keys.meta("demo_seeded"),
    new Date(now).toISOString(),
  )
    .commit();
  if (!claimed.ok) return null;

  const admin = await putUser(kv, newId(), {
    email: "admin@kiloclaw.local",
    name: "Ada Admin",
    admin: true,
  }, now);
  const maya = await putUser(kv, newId(), {
    email: "maya@example.com",
    name: "Maya Lindqvist",
    timeZone: "Europe/Stockholm",
  }, now);
  const tom = await putUser(kv, newId(), {
    email: "tom@example.com",
    name: "Tom Okafor",
    timeZone: "America/New_York",
  }, now);
  const sam = await putUser(kv, newId(), { email: "sam@example.com" }, now);

  for (const t of DEMO_TAGS) {
    await putCatalogEntry(kv, t.imageTag, {
      openclawVersion: t.openclawVersion,
    }, now);
  }
  const [older, newer] = DEMO_TAGS.map((t) => t.imageTag);
  const instances: Array<[string, string, string, string | null]> = [
    ["Maya's support bot", maya.id, older, null],
    ["Maya's research assistant", maya.id, older, null],
    ["Maya's pinned bot", maya.id, older, older],
    ["Tom's sales bot", tom.id, older, null],
    ["Tom's on-call helper", tom.id, newer, null],
    ["Sam's bot", sam.id, older, null],
    ["Sam's sandbox", sam.id, newer, null],
    ["Ops canary", admin.id, newer, null],
  ];
  for (const [name, ownerId, imageTag, pinnedImageTag] of instances) {
    await putInstance(
      kv,
      newId(),
      { name, ownerId, imageTag, pinnedImageTag },
      now,
    );
  }

  return {
    adminEmail: admin.email,
    userEmail: maya.email,
    adminLink: await createLoginLink(kv, admin.id, publicUrl, now),
    userLink: await createLoginLink(kv, maya.id, publicUrl, now),
  };
}
