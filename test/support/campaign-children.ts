import type { Client } from '@temporalio/client';

/** The workflow ids of the children a campaign's current run started, in the order it started them. */
export async function campaignChildIds(client: Client, campaignId: string): Promise<string[]> {
  const campaign = await client.workflow.getHandle(campaignId).fetchHistory();
  return (campaign.events ?? []).flatMap((e) => {
    const id = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
    return id ? [id] : [];
  });
}
