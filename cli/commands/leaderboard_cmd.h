// leaderboard_cmd.h - `tito leaderboard [COMPETITION] [--all] [--quick] [--csv]`, `tito leaderboard
// export --html FILE [COMPETITION]` and `tito leaderboard verify ENTRY`: the competitions'
// rankings, a web page of them, and re-running a recorded entry to check that its score holds.
#pragma once

#include <string>
#include <vector>

#include "commands/command.h"
#include "leaderboard.h"

namespace tito {

void setup_leaderboard(CLI::App& app, CommandRunner& run);

// The rows as CSV (RFC 4180: comma-separated, CRLF line ends, fields with a comma, quote or line
// break in double quotes with their quotes doubled), one header line first. Each row is an entry
// of `rows` with its rank (0: unranked, a failed attempt). Public for the tests.
struct RankedRow {
    int rank = 0;
    LeaderboardEntry entry;
};
std::string leaderboard_csv(const std::vector<RankedRow>& rows);
std::string csv_field(const std::string& text);

}  // namespace tito
