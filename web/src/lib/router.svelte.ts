/**
 * A tiny client-side router: two pages (`/` volunteer, `/host` dashboard). The relay serves
 * index.html for every unknown path (SPA fallback), so deep links and reloads work.
 */
export type RouteName = 'volunteer' | 'host';

export const ROUTES: Record<RouteName, string> = { volunteer: '/', host: '/host' };

export function routeOf(pathname: string): RouteName {
  return pathname.replace(/\/+$/, '') === '/host' ? 'host' : 'volunteer';
}

export const router = $state({ route: routeOf(globalThis.location?.pathname ?? '/') });

export function navigate(route: RouteName): void {
  if (router.route === route) return;
  history.pushState({}, '', ROUTES[route]);
  router.route = route;
  window.scrollTo(0, 0);
}

if (typeof window !== 'undefined') {
  window.addEventListener('popstate', () => {
    router.route = routeOf(location.pathname);
  });
}
