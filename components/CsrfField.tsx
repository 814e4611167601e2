/** The hidden field every form posted with a session carries (checked by lib/auth/csrf.ts). */
export function CsrfField({ token }: { token: string | null }) {
  return token ? <input type="hidden" name="_csrf" value={token} /> : null;
}
