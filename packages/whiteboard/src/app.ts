import type { CanvasStoreClient } from 'canvas-store-client';
import { attachBoardInput } from './board-input.js';
import { BoardView } from './board-view.js';
import { Camera } from './camera.js';
import { h } from './dom.js';
import { EditHistory } from './edit-history.js';
import { attachKeyboard } from './keyboard.js';
import { SHAPE_COLORS } from './palette.js';
import { type PresenceState, PresenceView } from './presence-view.js';
import { SaveIndicator } from './save-indicator.js';
import { Selection } from './selection.js';
import { type SessionConfig, saveName, saveOfflineChoice, type UserIdentity } from './session-config.js';
import { applyShapeChange, type ShapeChange } from './shape-change.js';
import { readShapes, type Shape, sortShapes } from './shape-model.js';
import { ShapeWriter } from './shape-writer.js';
import { createSidebar, createSidebarToggle } from './sidebar.js';
import { StatusView } from './status-view.js';
import { textEditChange, textEditTarget } from './text-change.js';
import { TextEditor } from './text-editor.js';
import { throttle } from './throttle.js';
import { Toolbar } from './toolbar.js';
import { HandTool } from './tools/hand-tool.js';
import { PenTool } from './tools/pen-tool.js';
import { RectTool } from './tools/rect-tool.js';
import { SelectTool } from './tools/select-tool.js';
import { TextTool } from './tools/text-tool.js';
import type { BoardPoint, Tool, ToolContext, ToolName } from './tools/tool.js';
import { ViewBar } from './view-bar.js';

/** Most presence (cursor) updates sent per second. */
const PRESENCE_PER_SECOND = 20;
/** Zoom factor of one press of a zoom button or key. */
const ZOOM_STEP = 1.25;

/**
 * The whiteboard page: wires the client to the board, the tools, the
 * toolbars, the camera, the history, the presence and status views, and the
 * keyboard.
 */
export class WhiteboardApp {
  /** The page's root element (mount it once). */
  readonly element: HTMLElement;
  /** This tab's view onto the board (pan and zoom). */
  readonly camera = new Camera();
  /** This user's undo/redo history. */
  readonly history: EditHistory;
  private readonly user: UserIdentity;
  private readonly board = new BoardView(this.camera);
  private readonly selection = new Selection();
  private readonly writer: ShapeWriter;
  private readonly toolbar: Toolbar;
  private readonly viewBar: ViewBar;
  private readonly status: StatusView;
  private readonly saveIndicator: SaveIndicator;
  private readonly presence: PresenceView;
  private readonly textEditor = new TextEditor(this.camera);
  private readonly tools: Record<ToolName, Tool>;
  private tool: Tool;
  private color: string = SHAPE_COLORS[0];
  private offlineByUser: boolean;
  private spaceHeld = false;
  private panning = false;
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
    this.history = new EditHistory(client);
    this.writer = new ShapeWriter(
      client,
      () => this.scheduleRender(),
      (changes) => this.history.record(changes),
    );
    const ctx: ToolContext = {
      client,
      writer: this.writer,
      selection: this.selection,
      shapes: () => this.shapes(),
      color: () => this.color,
      editText: (shape, at) => this.editText(shape, at),
    };
    this.tools = {
      select: new SelectTool(ctx),
      hand: new HandTool(),
      rect: new RectTool(ctx),
      pen: new PenTool(ctx),
      text: new TextTool(ctx),
    };
    this.tool = this.tools.pen;
    this.toolbar = new Toolbar({
      selectTool: (name) => this.selectTool(name),
      pickColor: (color) => this.pickColor(color),
      deleteSelection: () => this.deleteSelection(),
      toggleOffline: () => this.toggleOffline(),
    });
    this.viewBar = new ViewBar({
      undo: () => this.undo(),
      redo: () => this.redo(),
      zoomIn: () => this.zoomBy(ZOOM_STEP),
      zoomOut: () => this.zoomBy(1 / ZOOM_STEP),
      zoomReset: () => this.camera.reset(),
    });
    this.status = new StatusView(client);
    this.saveIndicator = new SaveIndicator(client);
    this.presence = new PresenceView(client, () => this.user, this.camera);
    const sidebar = createSidebar({
      roomId: config.roomId,
      status: this.status.element,
      people: this.presence.peopleList,
      name: this.user.name,
      onRename: (name) => this.rename(name),
    });
    const corner = h('div', { class: 'corner' }, this.saveIndicator.element, createSidebarToggle(sidebar));
    this.element = h(
      'div',
      { class: 'whiteboard' },
      this.board.element,
      this.textEditor.element,
      this.status.banner,
      // The panels share one grid, so on no screen size does one cover another.
      h('div', { class: 'chrome' }, this.toolbar.element, corner, sidebar),
      this.viewBar.element,
      // Last, so others' cursors show over the panels too (it lets the pointer through).
      this.presence.cursorLayer,
    );
  }

  /** Subscribes to the client and the input devices and draws the first frame. */
  start(): void {
    const { client } = this;
    client.on('change', () => this.scheduleRender());
    client.on('presence', () => this.renderPresence());
    client.on('saved', () => this.saveIndicator.render());
    for (const event of ['status', 'clientCount'] as const) {
      client.on(event, () => {
        this.status.render();
        this.saveIndicator.render();
      });
    }
    client.on('synced', () => {
      this.status.render();
      this.saveIndicator.render();
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
    this.history.onChange(() => this.viewBar.setHistory(this.history.canUndo, this.history.canRedo));
    this.camera.onChange(() => {
      this.board.applyCamera();
      this.viewBar.setZoom(this.camera.zoom);
      this.textEditor.layout();
      this.presence.render();
      this.scheduleRender();
    });
    attachBoardInput(this.board.element, this.camera, {
      tool: () => this.tool,
      panMode: () => this.spaceHeld || this.tool.name === 'hand',
      panning: (active) => {
        this.panning = active;
        this.updateCursor();
      },
      hover: (point) => {
        if (point) this.publishCursor(Math.round(point.x), Math.round(point.y));
        else {
          this.publishCursor.cancel();
          this.publishPresence(null, null);
        }
      },
    });
    this.board.element.addEventListener('dblclick', (event) => this.onDoubleClick(event));
    attachKeyboard({
      undo: () => this.undo(),
      redo: () => this.redo(),
      deleteSelection: () => this.deleteSelection(),
      clearSelection: () => this.selection.set(null),
      selectTool: (name) => this.selectTool(name),
      zoomIn: () => this.zoomBy(ZOOM_STEP),
      zoomOut: () => this.zoomBy(1 / ZOOM_STEP),
      zoomReset: () => this.camera.reset(),
      space: (held) => {
        this.spaceHeld = held;
        this.updateCursor();
      },
    });
    this.selectTool(this.tool.name);
    this.toolbar.setCanDelete(false);
    this.toolbar.setOffline(this.offlineByUser);
    this.viewBar.setHistory(false, false);
    this.viewBar.setZoom(this.camera.zoom);
    this.renderPresence();
    this.publishPresence(null, null);
    this.status.render();
    this.saveIndicator.render();
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
    this.board.render(shapes, selected, this.textEditor.editingId);
    // The palette shows the selected shape's colour; with nothing selected, the one new shapes get.
    this.toolbar.setColor(selected?.color ?? this.color);
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

  /** Redraws presence; republishes when the colour assigned to this user changed. */
  private renderPresence(): void {
    this.presence.render();
    const color = this.presence.colorOf(this.client.clientId);
    if (color !== undefined && color !== this.user.color) {
      this.user.color = color;
      this.publishPresence(this.cursor.x, this.cursor.y);
      this.presence.render();
    }
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
    this.updateCursor();
    this.toolbar.setTool(name);
  }

  private updateCursor(): void {
    const pan = this.panning ? 'grabbing' : this.spaceHeld ? 'grab' : undefined;
    this.board.element.style.cursor = pan ?? this.tool.cursor;
  }

  /** Writes `changes` as one edit and one undo step. */
  private change(changes: ShapeChange[]): void {
    this.client.transact(() => {
      for (const change of changes) applyShapeChange(this.client, change);
    });
    this.history.record(changes);
  }

  private selectedShape(): Shape | undefined {
    const id = this.selection.id;
    return id === null ? undefined : this.shapes().find((shape) => shape.id === id);
  }

  private pickColor(color: string): void {
    this.color = color;
    const shape = this.selectedShape();
    if (shape && shape.color !== color)
      this.change([{ id: shape.id, before: shape, after: { ...shape, color } }]);
    this.scheduleRender();
  }

  private deleteSelection(): void {
    const shape = this.selectedShape();
    if (!shape) return;
    this.selection.set(null);
    this.change([{ id: shape.id, before: shape, after: null }]);
  }

  /** Undoes the last step; a gesture still in progress is finished (and so undone) first. */
  private undo(): void {
    this.tool.cancel();
    this.history.undo();
  }

  private redo(): void {
    this.tool.cancel();
    this.history.redo();
  }

  private zoomBy(factor: number): void {
    const rect = this.board.element.getBoundingClientRect();
    this.camera.zoomBy(factor, { x: rect.width / 2, y: rect.height / 2 });
  }

  /** Opens the text editor on a text shape, or on a new text at `at`. */
  private editText(shape: Shape | null, at: BoardPoint): void {
    // The press that closed an open editor only finishes that edit.
    if (this.textEditor.justClosed) return;
    const target = textEditTarget(shape, at, this.color);
    this.textEditor.open(target, (text) => {
      this.scheduleRender();
      const change = text === null ? null : textEditChange(shape, target, text, this.shapes());
      if (change) this.change([change]);
    });
    this.scheduleRender();
  }

  private onDoubleClick(event: MouseEvent): void {
    if (this.tool.name !== 'select') return;
    // The press captured the pointer, so the event's target is the board: hit-test instead.
    const hit = document.elementFromPoint(event.clientX, event.clientY);
    const id = hit?.closest<SVGElement>('[data-shape-id]')?.dataset.shapeId;
    const shape = this.shapes().find((candidate) => candidate.id === id);
    if (shape?.kind === 'text') this.editText(shape, { x: shape.x, y: shape.y });
  }

  private toggleOffline(): void {
    this.offlineByUser = !this.offlineByUser;
    saveOfflineChoice(this.roomId, this.offlineByUser);
    if (this.offlineByUser) this.client.disconnect();
    else this.client.connect();
    this.toolbar.setOffline(this.offlineByUser);
    this.status.render();
    this.saveIndicator.render();
  }

  private rename(name: string): void {
    this.user.name = name;
    saveName(name);
    this.publishPresence(this.cursor.x, this.cursor.y);
    this.presence.render();
  }
}
