/** An activity whose own code never heartbeats. */
export const quietActivities = {
  async quietSleep(ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    return `slept ${ms} ms`;
  },
};
