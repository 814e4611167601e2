/** Reading rows and targets by range (`getManyNearby`): the same answer as one read per key. */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { getManyChunked, getManyNearby } from "@/lib/kv/batched_reads.ts";

const id = (n: number) => `row-${String(n).padStart(4, "0")}`;

Deno.test("a range read answers like getMany: in order, gaps and missing ids included, versionstamps kept", () =>
  withKv(async (kv) => {
    // Rows 0..299; every third one is gone, and others sit between.
    for (let n = 0; n < 300; n += 50) {
      const op = kv.atomic();
      for (let m = n; m < n + 50; m++) {
        if (m % 3 !== 0) op.set(["notifications", id(m)], { n: m });
        op.set(["notifications", id(m), "child"], { child: m });
      }
      await op.commit();
    }
    await kv.set(["notifications", "é-not-ascii"], { n: -1 });
    await kv.set(["notifications", 7], { n: -2 });
    const cases: string[][] = [
      Array.from({ length: 40 }, (_, i) => id(i)),
      // Out of order, with a repeat and ids beyond the stored ones.
      [
        id(120),
        id(5),
        id(5),
        id(299),
        id(310),
        ...Array.from(
          { length: 30 },
          (_, i) => id(200 + i * 3),
        ),
      ],
      // Spread wider than the range walks: the rest is read key by key.
      Array.from({ length: 12 }, (_, i) => id(i * 25)),
      [
        "é-not-ascii",
        7 as unknown as string,
        ...Array.from(
          { length: 11 },
          (_, i) => id(i),
        ),
      ],
      [id(1), id(2)],
      [],
    ];
    for (const ids of cases) {
      const nearby = await getManyNearby<{ n: number }>(
        kv,
        ["notifications"],
        ids,
      );
      const plain = await getManyChunked<{ n: number }>(
        kv,
        ids.map((i) => ["notifications", i]),
      );
      assert.deepEqual(nearby, plain);
    }
  }));
