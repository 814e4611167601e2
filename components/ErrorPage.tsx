/** A standalone error page, for errors the middleware maps before any route renders. */
import { renderToString } from "preact-render-to-string";

export function renderErrorPage(
  status: number,
  title: string,
  message: string,
): string {
  return "<!DOCTYPE html>" + renderToString(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · KiloClaw`}</title>
        <link rel="stylesheet" href="/styles.css" />
      </head>
      <body>
        <main class="container narrow">
          <p class="muted">Error {status}</p>
          <h1>{title}</h1>
          <p>{message}</p>
          <p>
            <a href="/">Back to your instances</a>
          </p>
        </main>
      </body>
    </html>,
  );
}
