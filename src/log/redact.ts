// URLs as the log may show them: where a request went, never the credentials or tokens it carried.

/**
 * The URL with its password and query string replaced (a notification URI may carry a token in either) and its
 * fragment dropped; a user name stays, since it tells which account was used. Unparsable text is not echoed.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(unparsable URL)';
  }
  if (parsed.password) parsed.password = 'redacted';
  if (parsed.search) parsed.search = '?redacted';
  parsed.hash = '';
  return parsed.toString();
}
