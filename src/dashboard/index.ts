export { createDashboard, startDashboard, type DashboardOptions } from './dashboard.js';
export { graphSvg, type GraphNode, type GraphEdge } from './graph-svg.js';
export { registerDashboard } from './command.js';
