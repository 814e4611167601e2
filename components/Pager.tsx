/** Previous / next links that keep the rest of the query string. */
export function Pager(
  { page, pages, url }: { page: number; pages: number; url: URL },
) {
  if (pages <= 1) return null;
  const href = (p: number) => {
    const u = new URL(url);
    u.searchParams.set("page", String(p));
    return u.pathname + u.search;
  };
  return (
    <nav class="pager" aria-label="Pages">
      {page > 1 ? <a href={href(page - 1)}>← Previous</a> : <span />}
      <span class="muted">Page {page} of {pages}</span>
      {page < pages ? <a href={href(page + 1)}>Next →</a> : <span />}
    </nav>
  );
}

/**
 * For lists paged by a KV cursor: "Next" with the cursor the list returned,
 * and a way back to the first page once past it.
 */
export function CursorPager(
  { url, cursor, param = "cursor", label = "Next page →" }: {
    url: URL;
    cursor: string | null;
    param?: string;
    label?: string;
  },
) {
  const onLaterPage = url.searchParams.has(param);
  if (!cursor && !onLaterPage) return null;
  const href = (value: string | null) => {
    const u = new URL(url);
    if (value === null) u.searchParams.delete(param);
    else u.searchParams.set(param, value);
    return u.pathname + u.search;
  };
  return (
    <nav class="pager" aria-label="Pages">
      {onLaterPage ? <a href={href(null)}>← First page</a> : <span />}
      <span />
      {cursor ? <a href={href(cursor)}>{label}</a> : <span />}
    </nav>
  );
}
