/** An HTTP GET from the host, e.g. to a proxy's API on the compose network. */
import { InvalidValueError } from './validate';

const LOCAL_URL = /^http:\/\/[0-9]{1,3}(\.[0-9]{1,3}){3}:[0-9]{1,5}\/[A-Za-z0-9/_@.-]*$/;

export function httpGet(url: string, timeoutSeconds = 3): string[] {
  if (!LOCAL_URL.test(url)) throw new InvalidValueError('URL', url, 'an http:// URL of an IPv4 address, port and plain path');
  return ['curl', '--fail', '--silent', '--show-error', '--max-time', String(timeoutSeconds), url];
}
