export { registerLakeViews } from './lake-views.ts';
