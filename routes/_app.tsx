import type { PageProps } from "$fresh/server.ts";
import type { State } from "../lib/state.ts";
import { CsrfField } from "../components/CsrfField.tsx";

export default function App({ Component, state }: PageProps<unknown, State>) {
  const user = state?.user ?? null;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>KiloClaw</title>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/styles.css" />
      </head>
      <body>
        <header class="topbar">
          <nav class="container nav">
            <a class="brand" href="/">KiloClaw</a>
            {user && (
              <>
                <a href="/">Your instances</a>
                {state.role === "admin" && (
                  <>
                    <a href="/admin">Instances</a>
                    <a href="/admin/actions">Scheduled actions</a>
                    <a href="/admin/catalog">Catalog</a>
                    <a href="/admin/users">Users</a>
                    <a href="/admin/outbox">Outbox</a>
                    <a href="/admin/audit">Audit</a>
                  </>
                )}
                <span class="spacer" />
                <span class="muted who">{user.email}</span>
                <form method="post" action="/logout" class="inline">
                  <CsrfField token={state.csrfToken} />
                  <button type="submit" class="link">Sign out</button>
                </form>
              </>
            )}
          </nav>
        </header>
        <main class="container">
          <Component />
        </main>
      </body>
    </html>
  );
}
