import assert from "node:assert/strict";
import { signal } from "@preact/signals";
import {
  decodeProps,
  jsonForScript,
  PropsEncoder,
  SerializeError,
} from "@/lib/fresh/serialize.ts";

Deno.test("props round-trip: JSON values, undefined, non-finite numbers, dates", () => {
  const props = {
    text: "hi",
    n: 1.5,
    list: [1, null, true],
    missing: undefined,
    inf: Infinity,
    when: new Date("2026-01-02T03:04:05.000Z"),
    nested: { $f: "looks like a tag" },
  };
  const wire = JSON.parse(JSON.stringify(new PropsEncoder().encode(props)));
  const back = decodeProps(wire, (v) => ({ sig: v })) as typeof props;
  assert.deepEqual(back, props);
});

Deno.test("signals arrive as signals, and one signal twice stays one signal", () => {
  const shared = signal(5);
  const encoder = new PropsEncoder();
  const a = encoder.encode({ shared, inner: { again: shared } });
  const b = encoder.encode({ shared });
  const made: unknown[] = [];
  const signals = new Map<number, unknown>();
  const makeSignal = (value: unknown) => {
    const s = signal(value);
    made.push(s);
    return s;
  };
  const first = decodeProps(a, makeSignal, signals) as Record<string, unknown>;
  const second = decodeProps(b, makeSignal, signals) as Record<string, unknown>;
  assert.equal(made.length, 1);
  assert.equal(first.shared, made[0]);
  assert.equal((first.inner as Record<string, unknown>).again, made[0]);
  assert.equal(second.shared, made[0]);
  assert.equal((made[0] as { value: number }).value, 5);
});

Deno.test("functions, class instances and cycles are refused with the prop's path", () => {
  assert.throws(
    () => new PropsEncoder().encode({ onClick: () => {} }),
    SerializeError,
  );
  assert.throws(
    () => new PropsEncoder().encode({ list: [new Map()] }),
    /props\.list\[0\] is a Map/,
  );
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  assert.throws(() => new PropsEncoder().encode(loop), /circular/);
});

Deno.test("the data block cannot be closed by a prop value", () => {
  const json = jsonForScript({ label: "</script><script>alert(1)</script>" });
  assert.ok(!json.includes("</script"));
  assert.equal(JSON.parse(json).label, "</script><script>alert(1)</script>");
});
