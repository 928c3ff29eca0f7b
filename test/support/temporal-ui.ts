import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../stack/stack-config';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const setup = require('../../scripts/ensure-setup.js') as { chromiumPath: () => string; CHROMIUM_HELP: string };

/** Where the UI tests save their screenshots, for a person to look at (gitignored). */
export const UI_OUTPUT_DIR = path.join(PROJECT_ROOT, 'test-output', 'ui');

/**
 * Chromium's flags on this kind of machine: headless, no sandbox (root), and no background traffic
 * (the network is closed: Chromium's own connections would be refused, many at a time).
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Debian's Chromium driven by playwright-core (no browser download), with a fresh profile. Every
 * step of a test runs through `step`: a failure names the step it stopped at and the page it was on,
 * and saves a screenshot `FAILED-<step>.png` beside the others.
 */
export class TemporalUi {
  private current = 'launch';

  private constructor(
    private readonly context: BrowserContext,
    readonly page: Page,
    readonly baseUrl: string,
    private readonly profileDir: string,
  ) {}

  static async launch(baseUrl: string): Promise<TemporalUi> {
    const executablePath = setup.chromiumPath();
    if (!fs.existsSync(executablePath)) throw new Error(`${executablePath} is missing: ${setup.CHROMIUM_HELP}`);
    fs.mkdirSync(UI_OUTPUT_DIR, { recursive: true });
    const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetops-ui-profile-'));
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 1000 },
      timezoneId: 'UTC',
    });
    context.setDefaultTimeout(20_000);
    const page = context.pages()[0] ?? (await context.newPage());
    return new TemporalUi(context, page, baseUrl, profileDir);
  }

  /** Runs one named step; on failure: a screenshot and an error naming the step and the page. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.current = name;
    try {
      return await fn();
    } catch (err) {
      const shot = path.join(UI_OUTPUT_DIR, `FAILED-${slug(name)}.png`);
      await this.page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      // What a screen reader would read: the roles and names a selector can use.
      const aria = shot.replace(/\.png$/, '.aria.yaml');
      const snapshot = await this.page
        .locator('body')
        .ariaSnapshot()
        .catch((e: Error) => `(no snapshot: ${e.message})`);
      fs.writeFileSync(aria, snapshot);
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(
        `UI test stopped at step "${name}" on ${this.page.url()}\n  screenshot: ${shot}\n  roles and names: ${aria}\n  ${message}`,
        { cause: err },
      );
    }
  }

  /** Saves a full-page screenshot `<name>.png` under test-output/ui/ and returns its path. */
  async shot(name: string): Promise<string> {
    const file = path.join(UI_OUTPUT_DIR, `${name}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    return file;
  }

  url(p: string): string {
    return `${this.baseUrl}/namespaces/default${p}`;
  }

  /**
   * Fills the "Start Workflow" form (Workflows → Start Workflow) and submits it; the JSON input is
   * inserted into the Data editor as a paste would. Returns once the UI says the workflow started.
   */
  async startWorkflow(o: {
    workflowId: string;
    taskQueue: string;
    workflowType: string;
    input: unknown;
    summary?: string;
    details?: string;
    screenshot?: string;
  }): Promise<void> {
    const { page } = this;
    await page.goto(this.url('/workflows/start-workflow'));
    await page.getByRole('heading', { name: 'Start Workflow' }).waitFor();
    await page.getByLabel('Workflow ID').fill(o.workflowId);
    await page.getByLabel('Task Queue').fill(o.taskQueue);
    await page.getByLabel('Workflow Type').fill(o.workflowType);
    await this.typeJson(page.getByRole('textbox', { name: 'Data' }), o.input);
    if (o.screenshot) await this.shot(o.screenshot);
    if (o.summary || o.details) {
      await page.getByRole('button', { name: 'More options' }).click();
      if (o.summary) await this.typeMarkdown('Summary', o.summary);
      if (o.details) await this.typeMarkdown('Details', o.details);
      if (o.screenshot) await this.shot(`${o.screenshot}-user-metadata`);
    }
    await page.getByRole('button', { name: 'Start Workflow', exact: true }).click();
    await page.getByRole('link', { name: 'Workflow started successfully' }).waitFor();
  }

  /** Opens a workflow's page (its latest run). */
  async openWorkflow(workflowId: string): Promise<void> {
    await this.page.goto(this.url(`/workflows/${encodeURIComponent(workflowId)}`));
    await this.page.getByRole('heading', { name: workflowId }).waitFor();
  }

  /** Waits until the open workflow page's status badge reads `status` (Running, Completed, Failed…). */
  async waitForStatus(status: string): Promise<void> {
    await this.page
      .getByRole('main')
      .getByRole('status')
      .filter({ hasText: new RegExp(`^\\s*${status}\\s*$`, 'i') })
      .first()
      .waitFor();
  }

  /** The text of the open workflow page's Input or Result box. */
  async boxText(name: 'Input' | 'Result'): Promise<string> {
    return this.page.getByRole('main').getByRole('textbox', { name, exact: true }).innerText();
  }

  /**
   * Opens the workflow page's "User Metadata" tab and waits until its rendered markdown (Summary,
   * Details, Current Details: each in a sandboxed frame) shows every one of `texts`; returns that text.
   */
  async userMetadata(texts: string[], timeoutMs = 20_000): Promise<string> {
    const { page } = this;
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    await page.getByRole('heading', { name: 'Current Details' }).waitFor();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frames = page.getByRole('main').locator('iframe');
      const shown: string[] = [];
      for (let i = 0; i < (await frames.count()); i++) {
        shown.push(
          await frames
            .nth(i)
            .contentFrame()
            .locator('body')
            .innerText()
            .catch(() => ''),
        );
      }
      const text = shown.join('\n');
      const missing = texts.filter((t) => !text.includes(t));
      if (missing.length === 0) return text;
      if (Date.now() > deadline)
        throw new Error(`User Metadata does not show ${JSON.stringify(missing)}; it shows:\n${text}`);
      await page.waitForTimeout(500);
    }
  }

  /** The workflow list, filtered with a list-filter query typed into the UI's query box. */
  async filterWorkflows(query: string): Promise<void> {
    const { page } = this;
    await page.goto(this.url('/workflows'));
    await page.getByRole('button', { name: 'Refresh' }).waitFor();
    let box = page.getByPlaceholder('Enter a query');
    // The query box opens with the list's "</>" toggle (an icon button without a name).
    if (!(await box.isVisible())) await page.getByTestId('toggle-manual-query').click();
    box = page.getByPlaceholder('Enter a query');
    await box.fill(query);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
  }

  /** More Actions → Send a Signal: picks the signal by name, types its JSON input, submits. */
  async sendSignal(name: string, input: unknown, screenshot?: string): Promise<void> {
    const { page } = this;
    await page.getByRole('button', { name: 'More Actions' }).click();
    await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send a Signal' });
    await dialog.getByRole('button', { name: /Select a signal/ }).click();
    await dialog.getByRole('option', { name: name, exact: true }).click();
    await this.typeJson(dialog.getByRole('textbox', { name: 'Data' }), input);
    if (screenshot) await this.shot(screenshot);
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await dialog.waitFor({ state: 'hidden' });
  }

  async close(): Promise<void> {
    await this.context.close();
    fs.rmSync(this.profileDir, { recursive: true, force: true });
  }

  /** The step a failure would name (for messages outside `step`). */
  get currentStep(): string {
    return this.current;
  }

  private async typeJson(editor: ReturnType<Page['getByRole']>, value: unknown): Promise<void> {
    await editor.click();
    // insertText is a paste: the editor's bracket auto-closing does not interfere.
    await this.page.keyboard.insertText(JSON.stringify(value, null, 2));
  }

  private async typeMarkdown(label: 'Summary' | 'Details', text: string): Promise<void> {
    // The form's markdown editors carry no accessible name: the first editor after the label's text.
    const editor = this.page
      .getByRole('main')
      .getByText(label, { exact: true })
      .locator('xpath=following::*[@role="textbox"][1]');
    await editor.click();
    await this.page.keyboard.insertText(text);
  }
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
