#pragma once
// The web console's pages: the embedded files (coordinator/console), served by the HTTP thread
// itself (they are constants); everything they show comes from /api/ (ConsoleApi).
#include "common/util/http_status.hpp"

namespace edgenas::coordinator {

// "/" and the console's files; other paths 404. Headers keep the pages from being framed or
// running anything not served here.
http::Route console_pages_route();

}  // namespace edgenas::coordinator
