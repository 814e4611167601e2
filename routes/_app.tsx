import type { PageProps } from "$fresh/server.ts";
import type { State } from "@/lib/request_state.ts";
import { CsrfField } from "@/components/CsrfField.tsx";

interface NavLink {
  href: string;
  label: string;
  /** Paths under this link: it is marked current on them. */
  current: (path: string) => boolean;
}

const USER_LINKS: NavLink[] = [
  {
    href: "/",
    label: "Your instances",
    current: (p) => p === "/" || p.startsWith("/claw/"),
  },
];

const ADMIN_LINKS: NavLink[] = [
  {
    href: "/admin",
    label: "Instances",
    current: (p) => p === "/admin" || p.startsWith("/admin/instances"),
  },
  {
    href: "/admin/actions",
    label: "Actions",
    current: (p) => p.startsWith("/admin/actions"),
  },
  {
    href: "/admin/catalog",
    label: "Catalog",
    current: (p) => p.startsWith("/admin/catalog"),
  },
  {
    href: "/admin/users",
    label: "Users",
    current: (p) => p.startsWith("/admin/users"),
  },
  {
    href: "/admin/outbox",
    label: "Outbox",
    current: (p) => p.startsWith("/admin/outbox"),
  },
  {
    href: "/admin/audit",
    label: "Audit",
    current: (p) => p.startsWith("/admin/audit"),
  },
  {
    href: "/admin/webhooks",
    label: "Webhooks",
    current: (p) => p.startsWith("/admin/webhooks"),
  },
  {
    href: "/admin/api",
    label: "API",
    current: (p) => p.startsWith("/admin/api"),
  },
];

export default function App(
  { Component, state, url }: PageProps<unknown, State>,
) {
  const user = state?.user ?? null;
  const links = user
    ? [...USER_LINKS, ...(state.role === "admin" ? ADMIN_LINKS : [])]
    : [];
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
        <a class="skip-link" href="#main">Skip to content</a>
        <header class="topbar">
          <div class="container nav">
            <a class="brand" href="/">KiloClaw</a>
            {user && (
              <>
                <nav class="nav-links" aria-label="Main">
                  <ul>
                    {links.map((l) => (
                      <li>
                        <a
                          href={l.href}
                          aria-current={l.current(url.pathname)
                            ? "page"
                            : undefined}
                        >
                          {l.label}
                        </a>
                      </li>
                    ))}
                  </ul>
                </nav>
                <div class="nav-user">
                  <span class="muted who">{user.email}</span>
                  <form method="post" action="/logout" class="inline">
                    <CsrfField token={state.csrfToken} />
                    <button type="submit" class="link">Sign out</button>
                  </form>
                </div>
              </>
            )}
          </div>
        </header>
        <main class="container" id="main" tabIndex={-1}>
          <Component />
        </main>
      </body>
    </html>
  );
}
