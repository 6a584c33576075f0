// End to end: `cmake --install` gives a tito that works from any directory.
#include <catch2/catch.hpp>

#include "e2e_support.h"

using namespace e2e;

TEST_CASE("install: an installed tito finds its course data and grades from anywhere", "[install]") {
    TempDir prefix("prefix");
    Run install = run({"/usr/bin/env", "cmake", "--install", build_dir().string(), "--prefix", prefix.path.string()}, prefix.path);
    INFO(install.text());
    REQUIRE(install.exit_code == 0);
    const fs::path installed = prefix.path / "bin" / "tito";
    REQUIRE(fs::exists(installed));
    CHECK(fs::exists(prefix.path / "share" / "tinytorch" / "build.json"));
    // Graders are installed compiled only: no grader or reference source.
    for (const auto& entry : fs::recursive_directory_iterator(prefix.path / "share" / "tinytorch")) {
        const std::string name = entry.path().string();
        INFO(name);
        const bool allowed = name.find("/graders/") == std::string::npos || entry.is_directory() ||
                             entry.path().extension() == ".a" || entry.path().filename() == "tests.json";
        CHECK(allowed);
    }

    TempDir ws("installed-ws");
    Run list = run({installed.string(), "module", "list"}, fs::path("/"));
    CHECK(list.exit_code == 0);
    CHECK_THAT(list.out, Catch::Contains("tensor"));
    REQUIRE(run({installed.string(), "module", "start", "01"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    Run test = run({installed.string(), "test", "01"}, ws.path);
    INFO(test.text());
    CHECK(test.exit_code == 0);
}
