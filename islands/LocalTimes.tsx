/**
 * Rewrites the page's server-rendered times (`<time data-format>`, see
 * components/LocalTime.tsx) in the browser's own zone, and keeps relative
 * ones current while the page stays open. Renders nothing itself.
 */
import { useEffect } from "preact/hooks";
import { localTimeZone } from "../lib/format.ts";
import { formatAs, type TimeFormat } from "../components/LocalTime.tsx";

const FORMATS = new Set(["datetime", "short", "relative", "when"]);

function refresh() {
  const zone = localTimeZone();
  const now = Date.now();
  for (
    const el of document.querySelectorAll<HTMLTimeElement>("time[data-format]")
  ) {
    const format = el.dataset.format ?? "";
    if (!FORMATS.has(format) || !el.dateTime) continue;
    const text = formatAs(format as TimeFormat, el.dateTime, zone, now);
    if (el.textContent !== text) el.textContent = text;
  }
}

export default function LocalTimes() {
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, 30_000);
    return () => clearInterval(timer);
  }, []);
  return null;
}
