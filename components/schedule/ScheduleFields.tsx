/**
 * The schedule form's fields, shared by the schedule page and the instance
 * page's dialog. Inputs are uncontrolled (`defaultValue`): what the browser
 * shows is exactly what it posts. Which parts show (version, instances, time,
 * notice) follows the radios and ticks through CSS alone, so it works the
 * same without JavaScript.
 */
import type { JSX } from "preact";
import type { CatalogEntry, Channel } from "@/lib/types.ts";
import { CHANNELS } from "@/lib/types.ts";
import {
  CHANNEL_LABELS,
  DONE_CHANNELS,
  FIELD,
  type InstanceChoice,
  type MatchSummary,
  type ScheduleFormValues,
} from "@/lib/views/form_model.ts";
import { invalidProps } from "./ErrorSummary.tsx";
import { WaveFields } from "./WaveFields.tsx";
import { PostponeFields, WindowDeadlineField } from "./OwnerTimingFields.tsx";

export interface ScheduleFieldsProps {
  values: ScheduleFormValues;
  catalog: Pick<CatalogEntry, "imageTag" | "openclawVersion" | "available">[];
  chosen: InstanceChoice[];
  match: MatchSummary | null;
  /** Errors by field id (see ErrorSummary's byField). */
  fields: Map<string, string>;
  /** "America/New_York (EST)": the zone the time field is in. */
  zoneLabel: string;
  /** "= Tue, Dec 1, 2026, 14:15 UTC · in 2 h 13 min" */
  timeHint: string;
  minAheadSeconds: number;
  /** The dialog schedules one instance it names itself. */
  fixedInstance?: InstanceChoice;
  /** Why the last channel could not be unticked, when that just happened. */
  channelNote?: string | null;
  onChannelChange?: (e: JSX.TargetedEvent<HTMLInputElement>) => void;
  timeInputRef?: preact.Ref<HTMLInputElement>;
  zoneInputRef?: preact.Ref<HTMLInputElement>;
  /** The island is running (the waves' buttons work in place). */
  enhanced?: boolean;
  /** The waves' rows changed. */
  onWavesChange?: () => void;
}

function Radio(
  { name, value, checked, children, id }: {
    name: string;
    value: string;
    checked: boolean;
    children: preact.ComponentChildren;
    id?: string;
  },
) {
  return (
    <label class="check">
      <input
        type="radio"
        name={name}
        value={value}
        id={id}
        defaultChecked={checked}
      />
      <span>{children}</span>
    </label>
  );
}

export function ScheduleFields(p: ScheduleFieldsProps) {
  const v = p.values;
  const available = p.catalog.filter((c) => c.available);
  const minutes = Math.max(1, Math.ceil(p.minAheadSeconds / 60));
  return (
    <>
      <fieldset>
        <legend>Action</legend>
        <div class="row-inline">
          <Radio
            name="actionType"
            value="scheduled_restart"
            id={FIELD.actionType}
            checked={v.actionType === "scheduled_restart"}
          >
            Restart
          </Radio>
          <Radio
            name="actionType"
            value="version_change"
            checked={v.actionType === "version_change"}
          >
            Change version
          </Radio>
        </div>
        <div class="version-only stack">
          <label>
            New version
            <select
              name="imageTag"
              id={FIELD.imageTag}
              {...invalidProps(p.fields, FIELD.imageTag)}
            >
              {!v.imageTag && <option value="">Choose a version</option>}
              {available.map((c) => (
                <option value={c.imageTag} selected={c.imageTag === v.imageTag}>
                  OpenClaw {c.openclawVersion} (image tag {c.imageTag})
                </option>
              ))}
            </select>
          </label>
          <label class="check">
            <input
              type="checkbox"
              name="overridePins"
              defaultChecked={v.overridePins}
            />
            <span>
              Also change instances pinned to another tag (they are left out
              otherwise)
            </span>
          </label>
        </div>
      </fieldset>

      {p.fixedInstance
        ? (
          <div class="fixed-instance">
            <input type="hidden" name="targets" value="ids" />
            <input type="hidden" name="instanceId" value={p.fixedInstance.id} />
            <p>
              <span class="muted">Instance:</span>{" "}
              <strong>{p.fixedInstance.name}</strong>{" "}
              <span class="muted small">
                {p.fixedInstance.owner} · {p.fixedInstance.imageTag}
              </span>
            </p>
          </div>
        )
        : <TargetFields {...p} />}

      <fieldset>
        <legend>When</legend>
        <div class="stack-tight">
          <Radio name="when" value="at" checked={v.when === "at"}>
            At a set time
          </Radio>
          <Radio name="when" value="now" checked={v.when === "now"}>
            Apply now: in about {minutes} minute{minutes === 1 ? "" : "s"}{" "}
            (the earliest allowed); owners are told at once
          </Radio>
          <Radio name="when" value="windows" checked={v.when === "windows"}>
            In each owner's maintenance window, between the time below and a
            latest time
          </Radio>
        </div>
        <div class="when-at stack-tight">
          <label for={FIELD.scheduledAt} class="field-label">
            Date and time{" "}
            <span class="zone-name" data-testid="zone-label">
              in {p.zoneLabel}
            </span>
          </label>
          <input
            type="datetime-local"
            id={FIELD.scheduledAt}
            name="scheduledAt"
            defaultValue={v.scheduledAt}
            ref={p.timeInputRef}
            {...invalidProps(p.fields, FIELD.scheduledAt, "f-time-hint")}
          />
          <input
            type="hidden"
            name="timeZone"
            defaultValue={v.timeZone}
            ref={p.zoneInputRef}
          />
          <p class="muted small" id="f-time-hint" data-testid="time-hint">
            {p.timeHint}
          </p>
        </div>
        <WindowDeadlineField values={v} fields={p.fields} zone={p.zoneLabel} />
        <label>
          <span>
            Reason <span class="hint">(kept with the action, not sent)</span>
          </span>
          <input
            type="text"
            name="reason"
            id={FIELD.reason}
            maxLength={256}
            defaultValue={v.reason}
            {...invalidProps(p.fields, FIELD.reason)}
          />
        </label>
      </fieldset>

      {!p.fixedInstance && (
        <WaveFields
          values={v}
          fields={p.fields}
          enhanced={p.enhanced ?? false}
          onChange={p.onWavesChange}
        />
      )}
      <PostponeFields values={v} fields={p.fields} zone={p.zoneLabel} />

      <fieldset>
        <legend>Tell the owners</legend>
        <label class="check">
          <input type="checkbox" name="notify" defaultChecked={v.notify} />
          <span>Notify the owners ahead of time</span>
        </label>
        <div class="notify-only stack">
          <p class="when-now" data-testid="told-now">
            With “Apply now”, owners are told now, as it is scheduled.
          </p>
          <label class="when-at">
            <span>
              Hours of notice <span class="hint">(1–168)</span>
            </span>
            <input
              type="number"
              name="noticeLeadHours"
              id={FIELD.lead}
              inputMode="numeric"
              min={1}
              max={168}
              step={1}
              defaultValue={v.noticeLeadHours}
              class="short"
              {...invalidProps(p.fields, FIELD.lead)}
            />
          </label>
          <label class="when-at">
            <span>
              Reminders by email and push{" "}
              <span class="hint">
                (optional: hours before, up to two, e.g. “24, 1”)
              </span>
            </span>
            <input
              type="text"
              name="reminderLeadHours"
              id={FIELD.reminders}
              inputMode="numeric"
              maxLength={20}
              defaultValue={v.reminderLeadHours}
              class="short"
              {...invalidProps(p.fields, FIELD.reminders)}
            />
          </label>
          <fieldset class="plain-fieldset">
            <legend>Channels</legend>
            <div class="row-inline">
              {CHANNELS.map((c: Channel) => (
                <label class="check">
                  <input
                    type="checkbox"
                    name="noticeChannels"
                    value={c}
                    id={`f-channel-${c}`}
                    defaultChecked={v.noticeChannels.includes(c)}
                    onChange={p.onChannelChange}
                    {...(c === "email"
                      ? invalidProps(p.fields, FIELD.channels, "f-channel-note")
                      : {})}
                  />
                  <span>{CHANNEL_LABELS[c]}</span>
                </label>
              ))}
            </div>
            <p class="muted small" id="f-channel-note" aria-live="polite">
              {p.channelNote ?? ""}
            </p>
          </fieldset>
          <label>
            <span>
              Email subject{" "}
              <span class="hint">(optional, replaces the default)</span>
            </span>
            <input
              type="text"
              name="noticeSubject"
              id={FIELD.subject}
              maxLength={120}
              defaultValue={v.noticeSubject}
              {...invalidProps(p.fields, FIELD.subject)}
            />
          </label>
          <label>
            <span>
              Message <span class="hint">(optional, added to the email)</span>
            </span>
            <textarea
              name="noticeBody"
              id={FIELD.body}
              maxLength={2000}
              rows={3}
              defaultValue={v.noticeBody}
              {...invalidProps(p.fields, FIELD.body)}
            />
          </label>
        </div>
        <fieldset class="plain-fieldset">
          <legend>Tell the owners how it went, after the change</legend>
          <div class="row-inline">
            {DONE_CHANNELS.map((c) => (
              <label class="check">
                <input
                  type="checkbox"
                  name="doneChannels"
                  value={c}
                  id={`f-done-${c}`}
                  defaultChecked={v.doneChannels.includes(c)}
                  {...(c === "email" ? invalidProps(p.fields, FIELD.done) : {})}
                />
                <span>{CHANNEL_LABELS[c]}</span>
              </label>
            ))}
          </div>
        </fieldset>
      </fieldset>
    </>
  );
}

function TargetFields(p: ScheduleFieldsProps) {
  const v = p.values;
  return (
    <fieldset
      id={FIELD.targets}
      tabIndex={-1}
      aria-describedby={p.fields.has(FIELD.targets)
        ? `err-${FIELD.targets}`
        : undefined}
    >
      <legend>Instances</legend>
      <div class="stack-tight">
        <Radio name="targets" value="ids" checked={v.targets === "ids"}>
          Chosen instances ({p.chosen.length})
        </Radio>
        {p.match && (
          <Radio name="targets" value="match" checked={v.targets === "match"}>
            All {p.match.count} matching {p.match.description}
          </Radio>
        )}
        <Radio name="targets" value="tag" checked={v.targets === "tag"}>
          Every running instance on an image tag
        </Radio>
      </div>
      <div class="targets-ids stack-tight">
        {p.chosen.length
          ? (
            <ul class="plain chosen" data-testid="chosen">
              {p.chosen.map((i) => (
                <li>
                  <label class="check">
                    <input
                      type="checkbox"
                      name="instanceId"
                      value={i.id}
                      defaultChecked
                    />
                    <span>
                      {i.name}{" "}
                      <span class="muted small">
                        {i.owner} · {i.imageTag}
                        {i.pinnedImageTag
                          ? ` (pinned ${i.pinnedImageTag})`
                          : ""}
                        {i.status !== "running" ? ` · ${i.status}` : ""}
                      </span>
                    </span>
                  </label>
                </li>
              ))}
            </ul>
          )
          : <p class="muted">None chosen yet.</p>}
        <p class="small">
          <a href="/admin">Pick instances from the list</a>{" "}
          <span class="muted">(tick them, then “Schedule for these”)</span>
        </p>
        <details class="small" open={v.instanceIdsText.trim() !== ""}>
          <summary>Add instances by id</summary>
          <label>
            Instance ids, one per line or comma separated
            <textarea
              name="instanceIdsText"
              rows={2}
              defaultValue={v.instanceIdsText}
            />
          </label>
        </details>
      </div>
      {p.match && (
        <div class="targets-match">
          <input type="hidden" name="match.q" value={v.match.q} />
          <input type="hidden" name="match.tag" value={v.match.tag} />
          <input type="hidden" name="match.owner" value={v.match.owner} />
          <input type="hidden" name="match.status" value={v.match.status} />
          <p class="muted small">
            {p.match.names.join(", ")}
            {p.match.count > p.match.names.length
              ? ` and ${p.match.count - p.match.names.length} more`
              : ""}
          </p>
        </div>
      )}
      <div class="targets-tag">
        <label>
          Image tag
          <select
            name="selectorTag"
            id={FIELD.selectorTag}
            {...invalidProps(p.fields, FIELD.selectorTag)}
          >
            {p.catalog.map((c) => (
              <option
                value={c.imageTag}
                selected={c.imageTag === v.selectorTag}
              >
                {c.imageTag} (OpenClaw {c.openclawVersion})
              </option>
            ))}
          </select>
        </label>
      </div>
    </fieldset>
  );
}
