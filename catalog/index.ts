/** The product catalog: `dealctl catalog import` into the lake's versioned `products` table. */
export {
  CatalogImportError,
  type CatalogImportReport,
  type CatalogRejectReason,
  type ColumnMapping,
  catalogVersions,
  importCatalog,
  parseCatalogPrice,
} from './import.ts';
