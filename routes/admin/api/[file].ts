/** The API reference's renderer, from the installed package. */
import type { Handlers } from "$fresh/server.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { readScalarScript } from "@/lib/openapi/reference_files.ts";

export const handler: Handlers = {
  async GET(_req, ctx) {
    const script = await readScalarScript(ctx.params.file);
    if (!script) throw new NotFoundError(`no file ${ctx.params.file}`);
    return new Response(script, {
      headers: {
        "content-type": "text/javascript; charset=utf-8",
        // Its name carries the package's version; for admins only, so private.
        "cache-control": "private, max-age=31536000, immutable",
      },
    });
  },
};
