/**
 * Where a webhook may point. Admins type the URL, but the app makes the
 * request from inside the fleet's network: an endpoint that reaches a
 * private, loopback or link-local address would let anyone with the admin
 * token probe that network (server-side request forgery). The literal host
 * is judged when the endpoint is registered, and every address its name
 * resolves to just before each delivery (`resolvedAddressProblem`), so a
 * name that later resolves inward (DNS rebinding) is refused too.
 */
import ipaddr from "ipaddr.js";

/** Only plain public unicast addresses are reachable from webhooks. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  }
  return ip.range() === "unicast";
}

function isLoopbackHost(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (!ipaddr.isValid(host)) return false;
  let ip = ipaddr.parse(host);
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  }
  return ip.range() === "loopback";
}

/** The URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

const INWARD =
  "points at a private, loopback or link-local address; webhooks may only reach public addresses (ALLOW_HTTP_WEBHOOKS=true lifts this for local use)";

/** Why this URL may not be an endpoint, or null when it may. */
export function addressProblem(
  raw: string,
  allowHttp: boolean,
): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL such as https://hooks.example.com/kiloclaw";
  }
  if (url.username || url.password) {
    return "must not carry a user name or password; use the signing secret to authenticate";
  }
  const host = hostOf(url);
  if (url.protocol === "http:") {
    if (!allowHttp) {
      return "must use https (plain http is accepted only to a loopback address with ALLOW_HTTP_WEBHOOKS=true)";
    }
    if (!isLoopbackHost(host)) {
      return "must use https; plain http is accepted only to a loopback address (localhost, 127.0.0.1, ::1)";
    }
    return null;
  }
  if (url.protocol !== "https:") {
    return `must use https, not ${url.protocol.replace(/:$/, "")}`;
  }
  if (allowHttp) return null;
  const literal = ipaddr.isValid(host);
  if (isLoopbackHost(host) || (literal && !isPublicAddress(host))) {
    return INWARD;
  }
  return null;
}

/** Looks a name up; injectable so tests can play a resolver that lies. */
export type Resolver = (
  host: string,
  type: "A" | "AAAA",
) => Promise<string[]>;

export const systemResolver: Resolver = (host, type) =>
  Deno.resolveDns(host, type);

/**
 * Why delivering to `url` now would reach inward, or null. Every address the
 * name has is judged (A and AAAA): one inward address is enough to refuse.
 * A name that does not resolve is a transient problem for the caller.
 */
export async function resolvedAddressProblem(
  url: URL,
  resolve: Resolver,
): Promise<{ refused: string } | { unresolved: string } | null> {
  const host = hostOf(url);
  if (ipaddr.isValid(host)) {
    return isPublicAddress(host) ? null : { refused: `${host} ${INWARD}` };
  }
  const found = await Promise.all(
    (["A", "AAAA"] as const).map((t) =>
      resolve(host, t).catch(() => [] as string[])
    ),
  );
  const addresses = found.flat();
  if (!addresses.length) {
    return { unresolved: `${host} did not resolve to any address` };
  }
  const inward = addresses.filter((a) => !isPublicAddress(a));
  if (inward.length) {
    return {
      refused: `${host} resolves to ${inward.join(", ")}, which ${INWARD}`,
    };
  }
  return null;
}
