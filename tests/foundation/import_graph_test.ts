/**
 * The project's modules form layers: no import cycles among them, `lib/`
 * never reaches into `components/`, storage (`lib/kv/`) knows nothing of
 * sign-in or the request, and nothing below the scheduler imports it. The
 * graph is the one Deno builds for the app's entry point, type imports
 * included.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

const ROOT = fromFileUrl(new URL("../../", import.meta.url));

interface InfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier?: string };
    type?: { specifier?: string };
  }[];
}

/** Project file → the project files it imports (node_modules and npm left out). */
async function projectGraph(entry: string): Promise<Map<string, Set<string>>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: InfoModule[];
  };
  const own = (specifier: string | undefined): string | null => {
    if (!specifier?.startsWith("file://")) return null;
    const path = relative(ROOT, fromFileUrl(specifier));
    return path.startsWith("..") || path.startsWith("node_modules")
      ? null
      : path;
  };
  const graph = new Map<string, Set<string>>();
  for (const m of info.modules) {
    const from = own(m.specifier);
    if (!from) continue;
    const to = new Set<string>();
    for (const d of m.dependencies ?? []) {
      for (const s of [d.code?.specifier, d.type?.specifier]) {
        const path = own(s);
        if (path && path !== from) to.add(path);
      }
    }
    graph.set(from, to);
  }
  return graph;
}

/** Every cycle's modules, one strongly connected group of two or more at a time (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Every import from a module matching `from` of a module matching `to`, as "a → b". */
function importsBetween(
  graph: Map<string, Set<string>>,
  from: RegExp,
  to: RegExp,
): string[] {
  const out: string[] = [];
  for (const [a, deps] of graph) {
    if (!from.test(a)) continue;
    for (const b of deps) if (to.test(b)) out.push(`${a} → ${b}`);
  }
  return out.sort();
}

const graph = await projectGraph("main.ts");

Deno.test("the graph covers the app: routes, islands, components and lib", () => {
  for (const folder of ["routes/", "islands/", "components/", "lib/kv/"]) {
    assert.ok(
      [...graph.keys()].some((p) => p.startsWith(folder)),
      `no module under ${folder} in the graph of main.ts`,
    );
  }
});

Deno.test("no import cycle among the project's modules", () => {
  assert.deepEqual(cycles(graph), []);
});

Deno.test("lib never imports components", () => {
  assert.deepEqual(importsBetween(graph, /^lib\//, /^components\//), []);
});

Deno.test("storage imports neither sign-in nor the request's state", () => {
  assert.deepEqual(
    importsBetween(graph, /^lib\/kv\//, /^lib\/(auth\/|request_state\.ts)/),
    [],
  );
});

Deno.test("nothing below the scheduler imports it", () => {
  assert.deepEqual(
    importsBetween(
      graph,
      /^lib\/(kv|notices|channels|auth|webhooks)\//,
      /^lib\/(scheduler|apply|views|preview)\//,
    ),
    [],
  );
});
