/** Named errors of the Node-side browser harness. */

export class ChromiumNotFoundError extends Error {
  override name = 'ChromiumNotFoundError';
  constructor(tried: string[]) {
    super(
      `No Chromium found (tried: ${tried.join(', ') || 'nothing'}). ` +
        'Install one with `apt-get update && apt-get install -y chromium` (Debian/Ubuntu), ' +
        'or point CHROMIUM_PATH at a Chromium or Chrome binary.',
    );
  }
}

export class PageScriptError extends Error {
  override name = 'PageScriptError';
}
