// Keep a token fresh: fetch one, hand it over, and fetch the next one before the current one expires.
// The delay comes from the server's expires_in, never from the browser's clock (which may be wrong).

// Renew at 80 % of the lifetime, but no later than 30 s before the end, and never sooner than 1 s.
export function renewalDelaySeconds(expiresIn) {
  return Math.max(1, Math.min(expiresIn * 0.8, expiresIn - 30));
}

// fetchToken: async () => {rtcToken, expires_in, ...}; onToken: called with each answer.
// A failed request is retried after 5 s while the current token may still be valid.
// Returns a function that stops the renewals.
export function keepTokenFresh(fetchToken, onToken, timers = globalThis) {
  let timer = null;
  let stopped = false;
  const renew = async () => {
    let delay = 5;
    try {
      const answer = await fetchToken();
      onToken(answer);
      delay = renewalDelaySeconds(answer.expires_in);
    } catch (error) {
      console.warn("token renewal failed, retrying in 5 s:", error);
    }
    if (!stopped) timer = timers.setTimeout(renew, delay * 1000);
  };
  renew();
  return () => { stopped = true; timers.clearTimeout(timer); };
}
