/**
 * The form's problems, once, in plain words: a list of links to the fields at
 * fault, which point back at it with `aria-describedby`. It takes focus when
 * it appears (the server marks it `autofocus`; the islands focus it).
 */
import type { Ref } from "preact";
import type { FormError } from "@/lib/views/form_model.ts";

/** The id a field's `aria-describedby` uses for its error. */
export const errorId = (field: string) => `err-${field}`;

/** One entry per field, its messages joined. */
export function byField(errors: FormError[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of errors) {
    const prev = out.get(e.field);
    out.set(e.field, prev ? `${prev} ${e.message}` : e.message);
  }
  return out;
}

export function ErrorSummary(
  { errors, autoFocus, summaryRef }: {
    errors: FormError[];
    autoFocus?: boolean;
    summaryRef?: Ref<HTMLDivElement>;
  },
) {
  if (errors.length === 0) return null;
  const fields = byField(errors);
  return (
    <div
      class="error-summary"
      id="error-summary"
      tabIndex={-1}
      autoFocus={autoFocus}
      ref={summaryRef}
      aria-labelledby="error-summary-title"
    >
      <h2 id="error-summary-title">
        {fields.size === 1
          ? "One thing to fix before going on"
          : `${fields.size} things to fix before going on`}
      </h2>
      <ul>
        {[...fields].map(([field, message]) => (
          <li id={errorId(field)}>
            <a
              href={`#${field}`}
              onClick={(e) => {
                const el = document.getElementById(field);
                if (!el) return;
                e.preventDefault();
                el.focus();
                el.scrollIntoView({ block: "center" });
              }}
            >
              {message}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** What a field carries when it has an error: `aria-invalid` and a pointer to the message. */
export function invalidProps(
  fields: Map<string, string>,
  field: string,
  hint?: string,
): { "aria-invalid"?: "true"; "aria-describedby"?: string } {
  const ids = [fields.has(field) ? errorId(field) : null, hint ?? null]
    .filter(Boolean).join(" ");
  return {
    ...(fields.has(field) ? { "aria-invalid": "true" as const } : {}),
    ...(ids ? { "aria-describedby": ids } : {}),
  };
}
