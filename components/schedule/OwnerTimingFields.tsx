/**
 * The owners' say in the schedule form: the latest time of "in each owner's
 * maintenance window" (the time field above is the earliest), and whether
 * owners may postpone. Shown by CSS alone, like the rest of the form.
 */
import {
  FIELD,
  MAX_POSTPONES,
  type ScheduleFormValues,
} from "@/lib/views/form_model.ts";
import { invalidProps } from "./ErrorSummary.tsx";

export function WindowDeadlineField(
  p: { values: ScheduleFormValues; fields: Map<string, string>; zone: string },
) {
  return (
    <div class="when-windows stack-tight">
      <label for={FIELD.windowDeadline} class="field-label">
        …and at the latest <span class="zone-name">in {p.zone}</span>
      </label>
      <input
        type="datetime-local"
        id={FIELD.windowDeadline}
        name="windowDeadline"
        defaultValue={p.values.windowDeadline}
        {...invalidProps(p.fields, FIELD.windowDeadline, "f-windows-hint")}
      />
      <p class="muted small" id="f-windows-hint">
        Each instance runs at its owner's first maintenance window start between
        the two times; an owner with no window, or none in that range, gets the
        first time.
      </p>
    </div>
  );
}

export function PostponeFields(
  p: { values: ScheduleFormValues; fields: Map<string, string>; zone: string },
) {
  const v = p.values;
  return (
    <fieldset>
      <legend>Owners may postpone</legend>
      <div class="stack-tight">
        <label class="check">
          <input
            type="radio"
            name="postpone"
            value="no"
            defaultChecked={v.postpone === "no"}
          />
          <span>
            No: urgent. Owners are told it cannot be postponed.
          </span>
        </label>
        <label class="check">
          <input
            type="radio"
            name="postpone"
            value="yes"
            defaultChecked={v.postpone === "yes"}
          />
          <span>Yes, to a later time of their choice</span>
        </label>
      </div>
      <div class="postpone-only row-inline">
        <label>
          <span>
            Until <span class="zone-name">({p.zone})</span>
          </span>
          <input
            type="datetime-local"
            id={FIELD.postponeUntil}
            name="postponeUntil"
            defaultValue={v.postponeUntil}
            {...invalidProps(p.fields, FIELD.postponeUntil)}
          />
        </label>
        <label>
          <span>
            At most <span class="hint">(times, 1–{MAX_POSTPONES})</span>
          </span>
          <input
            type="number"
            id={FIELD.postponeTimes}
            name="postponeTimes"
            inputMode="numeric"
            min={1}
            max={MAX_POSTPONES}
            step={1}
            class="short"
            defaultValue={v.postponeTimes}
            {...invalidProps(p.fields, FIELD.postponeTimes)}
          />
        </label>
      </div>
    </fieldset>
  );
}
