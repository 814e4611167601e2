import { v7 } from "uuid";

/** Time-ordered UUIDv7: key order in KV follows creation order. */
export function newId(): string {
  return v7();
}
