/** The zones the settings form offers: every IANA zone the runtime knows, by name. */
export function timeZoneChoices(): string[] {
  return Intl.supportedValuesOf("timeZone");
}
