import type { Camera, ScreenPoint } from './camera.js';
import type { BoardPoint, Tool } from './tools/tool.js';

/** What the board's pointer input drives. */
interface BoardInputTarget {
  /** The active tool; it receives presses, drags and releases. */
  tool(): Tool;
  /** True when a left-button drag should pan (the hand tool, or Space held). */
  panMode(): boolean;
  /** The pointer moved over the board (`null`: it left). Used for the live cursor. */
  hover(point: BoardPoint | null): void;
  /** Panning started or ended (for the cursor). */
  panning(active: boolean): void;
}

/** Zoom factor per pixel of wheel movement with Ctrl (or a trackpad pinch). */
const WHEEL_ZOOM_RATE = 0.01;

type Gesture =
  | { kind: 'tool'; pointerId: number; tool: Tool }
  | { kind: 'pan'; pointerId: number; last: ScreenPoint }
  | { kind: 'pinch'; ids: [number, number]; distance: number; zoom: number; middle: ScreenPoint };

function distance(a: ScreenPoint, b: ScreenPoint): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

function middle(a: ScreenPoint, b: ScreenPoint): ScreenPoint {
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
}

/**
 * Routes pointer input on `board`: a drag goes to the active tool, or pans
 * the camera (hand tool, Space held, middle button); two touching fingers
 * pinch-zoom and pan; the wheel pans, and zooms with Ctrl/Cmd (trackpad
 * pinches arrive as Ctrl+wheel). Tools get board coordinates through the
 * camera. Returns a detach function.
 */
export function attachBoardInput(board: SVGSVGElement, camera: Camera, target: BoardInputTarget): () => void {
  let gesture: Gesture | undefined;
  /** Where each pressed pointer is (screen), for pinches. */
  const down = new Map<number, ScreenPoint>();

  const toScreen = (event: { clientX: number; clientY: number }): ScreenPoint => {
    const rect = board.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };
  const toBoard = (event: PointerEvent): BoardPoint => camera.toBoard(toScreen(event));

  const startPinch = (): void => {
    const [first, second] = [...down.entries()];
    if (!first || !second) return;
    gesture = {
      kind: 'pinch',
      ids: [first[0], second[0]],
      distance: Math.max(1, distance(first[1], second[1])),
      zoom: camera.zoom,
      middle: middle(first[1], second[1]),
    };
  };

  const onDown = (event: PointerEvent) => {
    down.set(event.pointerId, toScreen(event));
    board.setPointerCapture(event.pointerId);
    if (gesture?.kind === 'tool' && event.pointerType === 'touch' && down.size === 2) {
      // A second finger turns a drawing gesture into a pinch: the first touch was not meant to draw.
      gesture.tool.abort();
      startPinch();
      return;
    }
    if (gesture) return;
    event.preventDefault();
    // preventDefault keeps focus where it was: leave text fields so Delete reaches the board.
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    if (event.button === 1 || (event.button === 0 && target.panMode())) {
      gesture = { kind: 'pan', pointerId: event.pointerId, last: toScreen(event) };
      target.panning(true);
    } else if (event.button === 0) {
      const tool = target.tool();
      gesture = { kind: 'tool', pointerId: event.pointerId, tool };
      tool.down(toBoard(event), event.target instanceof Element ? event.target : null);
    }
  };

  const onMove = (event: PointerEvent) => {
    const screen = toScreen(event);
    if (down.has(event.pointerId)) down.set(event.pointerId, screen);
    target.hover(camera.toBoard(screen));
    if (!gesture) return;
    if (gesture.kind === 'tool' && event.pointerId === gesture.pointerId) {
      gesture.tool.move(camera.toBoard(screen));
    } else if (gesture.kind === 'pan' && event.pointerId === gesture.pointerId) {
      camera.panBy(screen.x - gesture.last.x, screen.y - gesture.last.y);
      gesture.last = screen;
    } else if (gesture.kind === 'pinch') {
      const a = down.get(gesture.ids[0]);
      const b = down.get(gesture.ids[1]);
      if (!a || !b) return;
      const now = middle(a, b);
      camera.zoomTo((gesture.zoom * distance(a, b)) / gesture.distance, now);
      camera.panBy(now.x - gesture.middle.x, now.y - gesture.middle.y);
      gesture.middle = now;
    }
  };

  const finish = (event: PointerEvent, cancelled: boolean) => {
    down.delete(event.pointerId);
    if (board.hasPointerCapture(event.pointerId)) board.releasePointerCapture(event.pointerId);
    const current = gesture;
    if (!current) return;
    if (current.kind === 'pinch') {
      if (current.ids.includes(event.pointerId)) gesture = undefined;
      return;
    }
    if (event.pointerId !== current.pointerId) return;
    gesture = undefined;
    if (current.kind === 'pan') target.panning(false);
    else if (cancelled) current.tool.cancel();
    else current.tool.up(toBoard(event));
  };
  const onUp = (event: PointerEvent) => finish(event, false);
  const onCancel = (event: PointerEvent) => finish(event, true);
  const onLeave = () => {
    if (!gesture) target.hover(null);
  };
  const onWheel = (event: WheelEvent) => {
    event.preventDefault();
    // Lines and pages (rare, some mice) are turned into pixels.
    const scale = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? board.clientHeight : 1;
    if (event.ctrlKey || event.metaKey) {
      camera.zoomBy(Math.exp(-event.deltaY * scale * WHEEL_ZOOM_RATE), toScreen(event));
    } else {
      camera.panBy(-event.deltaX * scale, -event.deltaY * scale);
    }
  };

  board.addEventListener('pointerdown', onDown);
  board.addEventListener('pointermove', onMove);
  board.addEventListener('pointerup', onUp);
  board.addEventListener('pointercancel', onCancel);
  board.addEventListener('lostpointercapture', onCancel);
  board.addEventListener('pointerleave', onLeave);
  board.addEventListener('wheel', onWheel, { passive: false });
  return () => {
    board.removeEventListener('pointerdown', onDown);
    board.removeEventListener('pointermove', onMove);
    board.removeEventListener('pointerup', onUp);
    board.removeEventListener('pointercancel', onCancel);
    board.removeEventListener('lostpointercapture', onCancel);
    board.removeEventListener('pointerleave', onLeave);
    board.removeEventListener('wheel', onWheel);
  };
}
