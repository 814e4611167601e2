/** Admin: the image catalog — which tags exist, their OpenClaw version, which a version change may target. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { z } from "zod";
import { appContext } from "@/lib/app_context.ts";
import {
  CatalogPutSchema,
  ImageTagSchema,
  putCatalogEntry,
} from "@/lib/kv/catalog.ts";
import { listCatalogUsage } from "@/lib/views/list_reads.ts";
import { catalogAudit } from "@/lib/scheduler/audit.ts";
import { readForm } from "@/lib/web/request_body.ts";
import { zodIssues } from "@/lib/errors.ts";
import { redirect } from "@/lib/web/http.ts";
import type { State } from "@/lib/request_state.ts";
import type { CatalogEntry } from "@/lib/types.ts";
import { CsrfField } from "@/components/CsrfField.tsx";

interface Data {
  entries: { entry: CatalogEntry; running: number }[];
  csrfToken: string | null;
  saved: string | null;
  error: string | null;
  form: { imageTag: string; openclawVersion: string; available: boolean };
}

const FormSchema = z.object({ imageTag: ImageTagSchema }).extend(
  CatalogPutSchema.shape,
);

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    return ctx.render({
      entries: await listCatalogUsage(appContext().kv),
      csrfToken: ctx.state.csrfToken,
      saved: ctx.url.searchParams.get("saved"),
      error: null,
      form: { imageTag: "", openclawVersion: "", available: true },
    });
  },
  async POST(req, ctx) {
    const { kv, now } = appContext();
    const form = await readForm(req);
    const raw = {
      imageTag: String(form.get("imageTag") ?? ""),
      openclawVersion: String(form.get("openclawVersion") ?? ""),
      available: form.get("available") === "on",
    };
    const parsed = FormSchema.safeParse(raw);
    if (!parsed.success) {
      const error = zodIssues(parsed.error).map((i) =>
        `${i.path}: ${i.message}`
      ).join("; ");
      return ctx.render({
        entries: await listCatalogUsage(kv),
        csrfToken: ctx.state.csrfToken,
        saved: null,
        error,
        form: raw,
      }, {
        status: 400,
      });
    }
    const { imageTag, ...input } = parsed.data;
    await putCatalogEntry(
      kv,
      imageTag,
      input,
      now(),
      catalogAudit(ctx.state, now()),
    );
    return redirect(`/admin/catalog?saved=${encodeURIComponent(imageTag)}`);
  },
};

export default function Catalog({ data }: PageProps<Data>) {
  return (
    <>
      <Head>
        <title>Catalog · Admin · KiloClaw</title>
      </Head>
      <h1>Image catalog</h1>
      {data.saved && (
        <p class="flash flash-ok" role="status">Saved {data.saved}.</p>
      )}
      <div class="table-wrap">
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col">Image tag</th>
              <th scope="col">OpenClaw</th>
              <th scope="col">Version changes</th>
              <th scope="col">Running instances</th>
            </tr>
          </thead>
          <tbody>
            {data.entries.map(({ entry, running }) => (
              <tr>
                <td data-label="Image tag">
                  <code>{entry.imageTag}</code>
                </td>
                <td data-label="OpenClaw">{entry.openclawVersion}</td>
                <td data-label="Version changes">
                  {entry.available
                    ? "may target it"
                    : <span class="muted">not available</span>}
                </td>
                <td data-label="Running">
                  <a
                    href={`/admin?${new URLSearchParams({
                      tag: entry.imageTag,
                      status: "running",
                    })}`}
                  >
                    {running}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Add or update a tag</h2>
      <form method="post" class="stack narrow">
        <CsrfField token={data.csrfToken} />
        <label>
          Image tag
          <input
            name="imageTag"
            required
            value={data.form.imageTag}
            placeholder="2026.12.1"
          />
        </label>
        <label>
          OpenClaw version
          <input
            name="openclawVersion"
            required
            value={data.form.openclawVersion}
            placeholder="1.10.0"
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            name="available"
            checked={data.form.available}
          />
          Available as a version-change target
        </label>
        {data.error && <p class="error" role="alert">{data.error}</p>}
        <div>
          <button type="submit">Save tag</button>
        </div>
      </form>
    </>
  );
}
