import type { CanvasStoreClient } from 'canvas-store-client';
import { attachBoardInput } from './board-input.js';
import { BoardView } from './board-view.js';
import { h, isTyping } from './dom.js';
import { SHAPE_COLORS } from './palette.js';
import { type PresenceState, PresenceView } from './presence-view.js';
import { Selection } from './selection.js';
import { type SessionConfig, saveName, saveOfflineChoice, type UserIdentity } from './session-config.js';
import { readShapes, type Shape, shapeKey, sortShapes } from './shape-model.js';
import { ShapeWriter } from './shape-writer.js';
import { createSidebar } from './sidebar.js';
import { StatusView } from './status-view.js';
import { throttle } from './throttle.js';
import { Toolbar } from './toolbar.js';
import { PenTool } from './tools/pen-tool.js';
import { RectTool } from './tools/rect-tool.js';
import { SelectTool } from './tools/select-tool.js';
import type { Tool, ToolContext, ToolName } from './tools/tool.js';

/** Most presence (cursor) updates sent per second. */
const PRESENCE_PER_SECOND = 20;

const SHORTCUTS: Record<string, ToolName> = { v: 'select', r: 'rect', p: 'pen' };

/**
 * The whiteboard page: wires the client to the board, the tools, the
 * toolbar, the presence and status views, and the keyboard.
 */
export class WhiteboardApp {
  /** The page's root element (mount it once). */
  readonly element: HTMLElement;
  private readonly user: UserIdentity;
  private readonly board = new BoardView();
  private readonly selection = new Selection();
  private readonly writer: ShapeWriter;
  private readonly toolbar: Toolbar;
  private readonly status: StatusView;
  private readonly presence: PresenceView;
  private readonly tools: Record<ToolName, Tool>;
  private tool: Tool;
  private color: string = SHAPE_COLORS[0];
  private offlineByUser: boolean;
  private readonly roomId: string;
  private renderQueued = false;
  private readonly publishCursor = throttle(
    (x: number, y: number) => this.publishPresence(x, y),
    1000 / PRESENCE_PER_SECOND,
  );
  private cursor: { x: number | null; y: number | null } = { x: null, y: null };

  constructor(
    private readonly client: CanvasStoreClient,
    config: SessionConfig,
  ) {
    this.user = { ...config.user };
    this.roomId = config.roomId;
    this.offlineByUser = config.startOffline;
    this.writer = new ShapeWriter(client, () => this.scheduleRender());
    const ctx: ToolContext = {
      client,
      writer: this.writer,
      selection: this.selection,
      shapes: () => this.shapes(),
      color: () => this.color,
    };
    this.tools = { select: new SelectTool(ctx), rect: new RectTool(ctx), pen: new PenTool(ctx) };
    this.tool = this.tools.pen;
    this.toolbar = new Toolbar({
      selectTool: (name) => this.selectTool(name),
      pickColor: (color) => this.pickColor(color),
      deleteSelection: () => this.deleteSelection(),
      toggleOffline: () => this.toggleOffline(),
    });
    this.status = new StatusView(client);
    this.presence = new PresenceView(client, () => this.user);
    const sidebar = createSidebar({
      roomId: config.roomId,
      status: this.status.element,
      people: this.presence.peopleList,
      name: this.user.name,
      onRename: (name) => this.rename(name),
    });
    this.element = h(
      'div',
      { class: 'whiteboard' },
      this.board.element,
      this.status.banner,
      this.toolbar.element,
      sidebar,
      // Last, so others' cursors show over the panels too (it lets the pointer through).
      this.presence.cursorLayer,
    );
  }

  /** Subscribes to the client and the input devices and draws the first frame. */
  start(): void {
    const { client } = this;
    client.on('change', () => this.scheduleRender());
    client.on('presence', () => this.presence.render());
    for (const event of ['status', 'clientCount'] as const) client.on(event, () => this.status.render());
    client.on('synced', () => {
      this.status.render();
      this.status.showError(null);
    });
    client.on('error', ({ code, message }) => this.status.showError(`${message} (${code})`));
    client.on('close', ({ code, reason }) => {
      // 4xxx: the server refused or dropped this client (bad token, limits); see its close codes.
      if (code >= 4000)
        this.status.showError(`Disconnected by the server: ${reason || 'no reason given'} (${code})`);
    });
    this.selection.onChange(() => {
      this.toolbar.setCanDelete(this.selection.id !== null);
      this.scheduleRender();
    });
    attachBoardInput(this.board.element, {
      tool: () => this.tool,
      hover: (point) => {
        if (point) this.publishCursor(Math.round(point.x), Math.round(point.y));
        else {
          this.publishCursor.cancel();
          this.publishPresence(null, null);
        }
      },
    });
    window.addEventListener('keydown', (event) => this.onKey(event));
    this.selectTool(this.tool.name);
    this.toolbar.setColor(this.color);
    this.toolbar.setCanDelete(false);
    this.toolbar.setOffline(this.offlineByUser);
    this.publishPresence(null, null);
    this.status.render();
    this.presence.render();
    this.render();
  }

  /** The shapes on the board: the document with the drafts being edited on top. */
  shapes(): Shape[] {
    const drafts = this.writer.drafts;
    const shapes = readShapes(this.client.document).filter((shape) => !drafts.has(shape.id));
    return drafts.size === 0 ? shapes : sortShapes([...shapes, ...drafts.values()]);
  }

  private render(): void {
    this.renderQueued = false;
    const shapes = this.shapes();
    const selected = shapes.find((shape) => shape.id === this.selection.id);
    if (this.selection.id !== null && !selected) this.selection.set(null);
    this.board.render(shapes, selected);
  }

  /** Coalesces redraws into one per animation frame (with a timer for hidden tabs). */
  private scheduleRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    const run = () => {
      if (this.renderQueued) this.render();
    };
    requestAnimationFrame(run);
    setTimeout(run, 100);
  }

  private publishPresence(x: number | null, y: number | null): void {
    this.cursor = { x, y };
    const state: PresenceState = { x, y, name: this.user.name, color: this.user.color };
    this.client.setPresence({ ...state });
  }

  private selectTool(name: ToolName): void {
    if (name !== this.tool.name) this.tool.cancel();
    this.tool = this.tools[name];
    if (name !== 'select') this.selection.set(null);
    this.board.element.style.cursor = this.tool.cursor;
    this.toolbar.setTool(name);
  }

  private pickColor(color: string): void {
    this.color = color;
    this.toolbar.setColor(color);
    const id = this.selection.id;
    if (id !== null) this.client.set(shapeKey(id), { color });
  }

  private deleteSelection(): void {
    const id = this.selection.id;
    if (id === null) return;
    this.selection.set(null);
    this.client.delete(shapeKey(id));
  }

  private toggleOffline(): void {
    this.offlineByUser = !this.offlineByUser;
    saveOfflineChoice(this.roomId, this.offlineByUser);
    if (this.offlineByUser) this.client.disconnect();
    else this.client.connect();
    this.toolbar.setOffline(this.offlineByUser);
    this.status.render();
  }

  private rename(name: string): void {
    this.user.name = name;
    saveName(name);
    this.publishPresence(this.cursor.x, this.cursor.y);
    this.presence.render();
  }

  private onKey(event: KeyboardEvent): void {
    if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === 'Delete' || event.key === 'Backspace') {
      event.preventDefault();
      this.deleteSelection();
    } else if (event.key === 'Escape') {
      this.selection.set(null);
    } else {
      const tool = SHORTCUTS[event.key.toLowerCase()];
      if (tool) this.selectTool(tool);
    }
  }
}
