/** Calls the AWS proxy's admin API (`/__fleetops/<route>`); returns status, text and parsed JSON. */
export async function proxyAdmin<T = { message?: string }>(
  baseUrl: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; text: string; json: T }> {
  const res = await fetch(`${baseUrl}/__fleetops/${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: (text ? JSON.parse(text) : undefined) as T };
}
