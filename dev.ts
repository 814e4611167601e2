#!/usr/bin/env -S deno run -A --watch=static/,routes/,islands/,components/,lib/
// `deno task dev` | `deno task manifest [--check]` | `deno task build`: see lib/fresh/dev.ts.
import dev from "$fresh/dev.ts";

await dev(import.meta.url, "./main.ts");
