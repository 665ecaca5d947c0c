// Keyset pagination (page_size/page_token) is shared by every service's list RPCs.
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, nextPage, pageOf, type Page } from "@lotty/platform/rpc";
