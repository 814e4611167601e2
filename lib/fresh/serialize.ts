// Island props travel from server to browser as JSON inside a
// `<script type="application/json">` block. Plain JSON values pass as they are;
// the rest is tagged with a "$f" key:
//   {"$f":"s","id":n,"v":…}  a signal (first sight), value encoded recursively
//   {"$f":"r","id":n}        the same signal again, so islands sharing one signal
//                            still share one in the browser
//   {"$f":"u"}               undefined
//   {"$f":"n","v":"NaN"}     NaN, Infinity, -Infinity
//   {"$f":"d","v":iso}       Date
//   {"$f":"o","v":{…}}       a plain object that itself has a "$f" key
// Used by the server (encode) and by the browser bundle (decode): no other imports.

const TAG = "$f";
const SIGNAL_BRAND = Symbol.for("preact-signals");

export interface SignalLike<T = unknown> {
  peek(): T;
  value: T;
}

function isSignal(value: unknown): value is SignalLike {
  return typeof value === "object" && value !== null &&
    (value as { brand?: unknown }).brand === SIGNAL_BRAND;
}

export class SerializeError extends Error {
  override name = "SerializeError";
}

/** Encodes values for the props block; the same encoder across a page keeps signal ids unique. */
export class PropsEncoder {
  #signals = new Map<SignalLike, number>();

  encode(value: unknown, path = "props"): unknown {
    return this.#encode(value, path, new Set());
  }

  #encode(value: unknown, path: string, stack: Set<object>): unknown {
    if (
      value === null || typeof value === "string" || typeof value === "boolean"
    ) {
      return value;
    }
    if (value === undefined) return { [TAG]: "u" };
    if (typeof value === "number") {
      return Number.isFinite(value) ? value : { [TAG]: "n", v: String(value) };
    }
    if (typeof value !== "object") {
      throw new SerializeError(
        `${path} is a ${typeof value}: island props must be JSON values or signals`,
      );
    }
    if (isSignal(value)) {
      const seen = this.#signals.get(value);
      if (seen !== undefined) return { [TAG]: "r", id: seen };
      const id = this.#signals.size;
      this.#signals.set(value, id);
      return {
        [TAG]: "s",
        id,
        v: this.#encode(value.peek(), `${path}.value`, stack),
      };
    }
    if (value instanceof Date) return { [TAG]: "d", v: value.toISOString() };
    if (stack.has(value)) {
      throw new SerializeError(
        `${path} is circular: island props must be a tree`,
      );
    }
    stack.add(value);
    try {
      if (Array.isArray(value)) {
        return value.map((item, i) =>
          this.#encode(item, `${path}[${i}]`, stack)
        );
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new SerializeError(
          `${path} is a ${proto?.constructor?.name ?? "class instance"}: ` +
            "island props must be plain objects, arrays, JSON values or signals",
        );
      }
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        out[key] = this.#encode(item, `${path}.${key}`, stack);
      }
      return TAG in out ? { [TAG]: "o", v: out } : out;
    } finally {
      stack.delete(value);
    }
  }
}

/** Turns encoded props back into values; `makeSignal` builds the browser's signals. */
export function decodeProps(
  encoded: unknown,
  makeSignal: (value: unknown) => unknown,
  signals: Map<number, unknown> = new Map(),
): unknown {
  const decode = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map(decode);
    const record = value as Record<string, unknown>;
    switch (record[TAG]) {
      case undefined:
        return Object.fromEntries(
          Object.entries(record).map(([key, item]) => [key, decode(item)]),
        );
      case "s": {
        const signal = makeSignal(decode(record.v));
        signals.set(record.id as number, signal);
        return signal;
      }
      case "r":
        return signals.get(record.id as number);
      case "u":
        return undefined;
      case "n":
        return Number(record.v);
      case "d":
        return new Date(record.v as string);
      case "o": {
        const inner = record.v as Record<string, unknown>;
        return Object.fromEntries(
          Object.entries(inner).map(([key, item]) => [key, decode(item)]),
        );
      }
      default:
        throw new Error(`Unknown island prop tag ${String(record[TAG])}`);
    }
  };
  return decode(encoded);
}

/** JSON for a `<script type="application/json">` block: `<` escaped so no `</script>` can end it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(
    /\u2028|\u2029/g,
    (c) => c === "\u2028" ? "\\u2028" : "\\u2029",
  );
}
