/**
 * The review of a schedule into owners' maintenance windows: how many
 * instances run on each day (in the admin's zone), each time of that day,
 * and how many fell back to the earliest time for want of a window.
 */
import type { SchedulePreview } from "@/lib/preview/preview_model.ts";
import { formatDateTime } from "@/lib/format.ts";

function dayOf(iso: string, zone: string): string {
  return new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    weekday: "short",
    month: "short",
    day: "numeric",
  }).format(new Date(iso));
}

function timeOf(iso: string, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(iso));
}

export function WindowPlanReview(
  { windows, zone }: {
    windows: NonNullable<SchedulePreview["windows"]>;
    zone: string;
  },
) {
  const days: { day: string; count: number; times: string[] }[] = [];
  for (const t of windows.times) {
    const day = dayOf(t.at, zone);
    let row = days.at(-1);
    if (!row || row.day !== day) days.push(row = { day, count: 0, times: [] });
    row.count += t.instances;
    row.times.push(`${timeOf(t.at, zone)} (${t.instances})`);
  }
  const most = Math.max(1, ...days.map((d) => d.count));
  const total = windows.times.reduce((n, t) => n + t.instances, 0);
  return (
    <div class="window-plan" data-testid="review-windows">
      <p>
        In each owner's maintenance window between{" "}
        {formatDateTime(windows.notBefore, zone)} and{" "}
        {formatDateTime(windows.deadline, zone)}: {windows.times.length === 1
          ? "one time"
          : `${windows.times.length} times`} for {total}{" "}
        instance{total === 1 ? "" : "s"}. Each owner is warned ahead of their
        own time.
      </p>
      <table class="window-histogram">
        <caption class="muted small">
          Instances by day ({zone}), each time with its count
        </caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Instances</th>
            <th scope="col">Times</th>
          </tr>
        </thead>
        <tbody>
          {days.map((d) => (
            <tr data-testid="review-window-day">
              <th scope="row">{d.day}</th>
              <td>
                <span
                  class="histogram-bar"
                  style={`width:${
                    Math.max(4, Math.round(d.count / most * 100))
                  }%`}
                  aria-hidden="true"
                />
                <span>{d.count}</span>
              </td>
              <td class="small">{d.times.join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p data-testid="review-fell-back">
        {windows.fellBack === 0
          ? "Every owner has a window in that range."
          : `${windows.fellBack} instance${
            windows.fellBack === 1 ? "" : "s"
          } fell back to the earliest time: their owner has no window in that range.`}
      </p>
    </div>
  );
}
