/**
 * The admin's instances table with a tick per row, "select all on this page",
 * "select all N matching" and "Schedule for these". Without JavaScript it is
 * a plain GET form to the schedule page: "Schedule for selected" sends the
 * ticked ids, "Schedule for all N matching" sends the filters.
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { formatShortDateTime, formatUtc, localTimeZone } from "@/lib/format.ts";
import { StatusPill } from "@/components/StatusPill.tsx";
import type { PickerRow } from "@/lib/views/form_model.ts";

interface Props {
  rows: PickerRow[];
  /** Instances matching the filters, on every page. */
  total: number;
  filter: { q: string; tag: string; owner: string; status: string };
  timeZone: string | null;
}

/** A count as people read it: 12,000, not 12000. */
const many = (n: number) => n.toLocaleString("en-US");

export default function InstancePicker(props: Props) {
  const { rows, total, filter } = props;
  const selected = useSignal<string[]>([]);
  const allMatching = useSignal(false);
  const enhanced = useSignal(false);
  const zone = useSignal<string | null>(props.timeZone);
  const pageBox = useRef<HTMLInputElement>(null);

  useEffect(() => {
    enhanced.value = true;
    zone.value = localTimeZone();
  }, []);

  const ids = rows.map((r) => r.id);
  const count = allMatching.value ? total : selected.value.length;
  const allOnPage = ids.length > 0 &&
    ids.every((id) => selected.value.includes(id));
  const someOnPage = ids.some((id) => selected.value.includes(id));

  useEffect(() => {
    if (pageBox.current) {
      pageBox.current.indeterminate = someOnPage && !allOnPage;
    }
  }, [someOnPage, allOnPage]);

  const toggle = (id: string, on: boolean) => {
    allMatching.value = false;
    selected.value = on
      ? [...new Set([...selected.value, id])]
      : selected.value.filter((x) => x !== id);
  };
  const togglePage = (on: boolean) => {
    allMatching.value = false;
    selected.value = on ? ids : [];
  };

  return (
    <form method="get" action="/admin/actions/new" class="picker">
      <input type="hidden" name="q" value={filter.q} />
      <input type="hidden" name="tag" value={filter.tag} />
      <input type="hidden" name="owner" value={filter.owner} />
      <input type="hidden" name="status" value={filter.status} />
      {allMatching.value && <input type="hidden" name="match" value="1" />}
      <div class="selection-bar" data-testid="selection-bar">
        {enhanced.value
          ? (
            <>
              <span class="count" role="status">
                {count === 0
                  ? "No instance selected"
                  : allMatching.value
                  ? `All ${many(total)} matching selected`
                  : `${many(count)} selected`}
              </span>
              {allOnPage && !allMatching.value && total > ids.length && (
                <button
                  type="button"
                  class="link"
                  onClick={() => allMatching.value = true}
                >
                  Select all {many(total)} matching
                </button>
              )}
              {allMatching.value && (
                <button
                  type="button"
                  class="link"
                  onClick={() => {
                    allMatching.value = false;
                    selected.value = [];
                  }}
                >
                  Clear selection
                </button>
              )}
              <button
                type="submit"
                disabled={count === 0}
                data-testid="schedule-selected"
              >
                Schedule for {count === 1
                  ? "this instance"
                  : allMatching.value
                  ? `all ${many(total)} matching`
                  : "these"}
              </button>
            </>
          )
          : (
            <>
              <span>Tick instances, then:</span>
              <button type="submit">Schedule for selected</button>
              <button type="submit" name="match" value="1" class="secondary">
                Schedule for all {many(total)} matching
              </button>
            </>
          )}
      </div>
      <div class="table-wrap">
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col" class="pick">
                <input
                  type="checkbox"
                  ref={pageBox}
                  aria-label="Select every instance on this page"
                  checked={allOnPage || allMatching.value}
                  onChange={(e) => togglePage(e.currentTarget.checked)}
                />
              </th>
              <th scope="col">Name</th>
              <th scope="col">Owner</th>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Pending action</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr data-instance={r.id}>
                <td class="pick" data-label="Select">
                  <input
                    type="checkbox"
                    name="instanceId"
                    value={r.id}
                    aria-label={`Select ${r.name}`}
                    checked={allMatching.value ||
                      selected.value.includes(r.id)}
                    onChange={(e) => toggle(r.id, e.currentTarget.checked)}
                  />
                </td>
                <td data-label="Name">
                  <a href={`/admin/instances/${r.id}`}>{r.name}</a>
                </td>
                <td data-label="Owner">{r.owner}</td>
                <td data-label="Version">
                  <div>
                    <code>{r.imageTag}</code>
                    {r.openclawVersion && (
                      <span class="muted small">
                        &nbsp;OpenClaw {r.openclawVersion}
                      </span>
                    )}
                    {r.pinnedImageTag && (
                      <div class="muted small">
                        pinned to {r.pinnedImageTag}
                      </div>
                    )}
                  </div>
                </td>
                <td data-label="Status">
                  <StatusPill status={r.status} />
                </td>
                <td data-label="Pending">
                  {r.pending
                    ? (
                      <a href={`/admin/actions/${r.pending.actionId}`}>
                        {r.pending.label}
                        {r.pending.paused && " · paused"}
                        {!r.pending.paused && r.pending.scheduledAt && (
                          <>
                            {" at "}
                            <time
                              dateTime={r.pending.scheduledAt}
                              title={formatUtc(r.pending.scheduledAt)}
                            >
                              {formatShortDateTime(
                                r.pending.scheduledAt,
                                zone.value,
                              )}
                            </time>
                          </>
                        )}
                      </a>
                    )
                    : <span class="muted">—</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </form>
  );
}
