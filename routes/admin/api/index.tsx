/** Admin: the API reference, rendered from `/api/openapi.json` by Scalar, served from this app. */
import { Head } from "$fresh/runtime.ts";
import { SCALAR_SCRIPT_URL } from "@/lib/openapi/reference_files.ts";

export default function ApiReferencePage() {
  return (
    <>
      <Head>
        <title>API reference · Admin · KiloClaw</title>
        <link rel="stylesheet" href="/api-reference.css" />
      </Head>
      <h1>API reference</h1>
      <p class="muted">
        Every <code>/api</code>{" "}
        route, its parameters, bodies and answers. The document itself is{" "}
        <a href="/api/openapi.json">/api/openapi.json</a>{" "}
        (OpenAPI 3.1): import it into Postman or Insomnia, or generate a client
        from it.
      </p>
      <div id="api-docs" data-document="/api/openapi.json">
        <p>
          The reference needs JavaScript; the{" "}
          <a href="/api/openapi.json">OpenAPI document</a> does not.
        </p>
      </div>
      <script src={SCALAR_SCRIPT_URL} />
      <script src="/api-reference.js" />
    </>
  );
}
