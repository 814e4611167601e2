/**
 * "Roll out in waves": off by default (one wave, every instance at once).
 * Ticked, it offers presets and editable rows — a share or a number of the
 * instances, or for wave 1 a hand-picked canary, then a soak in minutes —
 * up to ten, and the health gate between waves once there are two. In the
 * island the buttons work in place; without JavaScript they post the form,
 * which answers with the rows changed (see applyWaveIntent).
 */
import { useSignal } from "@preact/signals";
import { MAX_WAVES } from "@/lib/scheduler/waves.ts";
import {
  FIELD,
  NEW_WAVE,
  type ScheduleFormValues,
  WAVE_PRESETS,
  waveField,
  type WaveRow,
} from "@/lib/views/form_model.ts";
import { invalidProps } from "./ErrorSummary.tsx";

interface KeyedRow extends WaveRow {
  key: number;
}

let nextKey = 0;
const keyed = (rows: WaveRow[]): KeyedRow[] =>
  rows.map((r) => ({ ...r, key: nextKey++ }));

export function WaveFields(
  { values, fields, enhanced, onChange }: {
    values: ScheduleFormValues;
    fields: Map<string, string>;
    /** The island is running: the buttons change the rows in place. */
    enhanced: boolean;
    /** The rows changed (the review should follow). */
    onChange?: () => void;
  },
) {
  const rows = useSignal<KeyedRow[]>(keyed(values.waves));
  const list = rows.value;
  const set = (next: KeyedRow[]) => {
    rows.value = next;
    // Let the new rows render before the form is read again.
    setTimeout(() => onChange?.(), 0);
  };
  /** A button that acts in place in the island, or posts its intent without it. */
  const action = (
    intent: string,
    label: string,
    run: () => void,
    extra: { class?: string; "aria-label"?: string } = {},
  ) =>
    enhanced
      ? (
        <button type="button" class="secondary" {...extra} onClick={run}>
          {label}
        </button>
      )
      : (
        <button
          type="submit"
          name="intent"
          value={intent}
          class="secondary"
          {...extra}
        >
          {label}
        </button>
      );

  return (
    <fieldset class="waves-fieldset">
      <legend>Rollout</legend>
      <label class="check">
        <input
          type="checkbox"
          name="wavesOn"
          id={FIELD.waves}
          defaultChecked={values.wavesOn}
          {...invalidProps(fields, FIELD.waves)}
        />
        <span>
          Roll out in waves{" "}
          <span class="hint">
            (a few instances first; the rest only if they stay healthy)
          </span>
        </span>
      </label>
      <div class="waves-only stack" data-testid="wave-fields">
        <div class="row-inline presets">
          <span class="muted small">Start from:</span>
          {WAVE_PRESETS.map((p) =>
            action(
              `waves-preset-${p.id}`,
              p.label,
              () => set(keyed(p.rows)),
            )
          )}
        </div>
        <ol class="wave-rows plain">
          {list.map((w, i) => {
            const last = i === list.length - 1;
            const canary = w.kind === "canary";
            return (
              <li
                key={w.key}
                class="wave-row"
                data-testid={`wave-row-${i + 1}`}
              >
                <strong class="wave-name">Wave {i + 1}</strong>
                <label>
                  Size
                  <select
                    name={`waves.${i}.kind`}
                    id={waveField(i, "kind")}
                    onChange={(e) => {
                      const kind = e.currentTarget.value as WaveRow["kind"];
                      rows.value = list.map((r, j) =>
                        j === i ? { ...r, kind } : r
                      );
                    }}
                  >
                    <option value="percent" selected={w.kind === "percent"}>
                      % of the instances
                    </option>
                    <option value="count" selected={w.kind === "count"}>
                      instances
                    </option>
                    {i === 0 && (
                      <option value="canary" selected={canary}>
                        hand-picked
                      </option>
                    )}
                  </select>
                </label>
                {(!canary || !enhanced) && (
                  <label>
                    {w.kind === "count" ? "How many" : "Percent"}
                    <input
                      type="text"
                      inputMode="numeric"
                      class="short"
                      name={`waves.${i}.amount`}
                      id={waveField(i, "amount")}
                      defaultValue={w.amount}
                      {...invalidProps(fields, waveField(i, "amount"))}
                    />
                  </label>
                )}
                {i === 0 && (canary || !enhanced) && (
                  <label class="grow">
                    Instance ids{" "}
                    <span class="hint">(hand-picked, comma separated)</span>
                    <textarea
                      rows={1}
                      name="waves.0.instanceIds"
                      id={waveField(0, "ids")}
                      defaultValue={w.instanceIds}
                      {...invalidProps(fields, waveField(0, "ids"))}
                    />
                  </label>
                )}
                <label>
                  Soak, minutes
                  <input
                    type="text"
                    inputMode="numeric"
                    class="short"
                    name={`waves.${i}.soakMinutes`}
                    id={waveField(i, "soak")}
                    defaultValue={w.soakMinutes}
                    {...invalidProps(fields, waveField(i, "soak"))}
                  />
                </label>
                {list.length > 1 &&
                  action(
                    `remove-wave-${i}`,
                    "Remove",
                    () => set(list.filter((_, j) => j !== i)),
                    { "aria-label": `Remove wave ${i + 1}` },
                  )}
                {last && list.length > 1 && (
                  <p class="hint small wave-note">
                    The last wave takes whatever is left.
                  </p>
                )}
                {[
                  waveField(i, "amount"),
                  waveField(i, "ids"),
                  waveField(i, "soak"),
                ]
                  .filter((f) => fields.has(f)).map((f) => (
                    <p class="field-error small" data-testid="wave-error">
                      {fields.get(f)}
                    </p>
                  ))}
              </li>
            );
          })}
        </ol>
        {list.length < MAX_WAVES &&
          action(
            "add-wave",
            "Add a wave",
            () => set([...list, ...keyed([NEW_WAVE])]),
          )}
        {list.length >= 2 && (
          <fieldset class="plain-fieldset">
            <legend>Health gate between waves</legend>
            <p class="hint small">
              After each wave's soak the rollout pauses by itself when more of
              its instances than this failed to change or look unhealthy.
            </p>
            <div class="row-inline">
              <label>
                Most failed, %
                <input
                  type="text"
                  inputMode="decimal"
                  class="short"
                  name="gate.maxFailedPercent"
                  id={FIELD.gateFailed}
                  defaultValue={values.gate.maxFailedPercent}
                  {...invalidProps(fields, FIELD.gateFailed)}
                />
              </label>
              <label>
                Most unhealthy, %
                <input
                  type="text"
                  inputMode="decimal"
                  class="short"
                  name="gate.maxUnhealthyPercent"
                  id={FIELD.gateUnhealthy}
                  defaultValue={values.gate.maxUnhealthyPercent}
                  {...invalidProps(fields, FIELD.gateUnhealthy)}
                />
              </label>
            </div>
          </fieldset>
        )}
      </div>
    </fieldset>
  );
}
