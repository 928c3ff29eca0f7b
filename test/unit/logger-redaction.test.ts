import { describe, expect, it } from 'vitest';
import { createLogger } from '../../worker/logger';

describe('worker logger', () => {
  it('redacts credential and secret fields wherever they appear', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    logger.info(
      {
        accessKeyId: 'ASIAAAAAAAAAAAAAAAAA',
        creds: { secretAccessKey: 'SECRET1', sessionToken: 'TOKEN1' },
        req: { headers: { authorization: 'AWS4 x' } },
        externalId: 'EXT1',
      },
      'call',
    );
    const text = lines.join('');
    for (const secret of ['ASIAAAAAAAAAAAAAAAAA', 'SECRET1', 'TOKEN1', 'AWS4 x', 'EXT1'])
      expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
    expect(JSON.parse(lines[0]).msg).toBe('call');
  });
});
