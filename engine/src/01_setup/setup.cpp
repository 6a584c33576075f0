// setup.cpp - module 01: who you are and what you build with.
//
// Two small functions, but both are used for the rest of the course:
//
// * my_identity() labels everything you submit: milestone results, Gradescope packages and
//   leaderboard entries carry your name, handle and email, so an instructor (and you, later) can
//   tell whose run a number belongs to.
// * system_check() records the facts that make a measurement meaningful. "My matmul takes 40 ms"
//   says nothing by itself: the same code is several times faster or slower depending on the
//   compiler and its version, the language standard it was built for, and how many hardware
//   threads the machine has (module 15 runs kernels on threads, module 19 benchmarks, and the
//   capstone competitions compare runs of different students). The other facts are assumptions
//   the engine makes: float is the 4-byte IEEE-754 format (so results are bit-comparable between
//   machines and files written on one machine read correctly on another), data files such as
//   MNIST's are big-endian and must be byte-swapped on a little-endian CPU (module 07), and a
//   64-bit address space lets a tensor hold more than 2^31 elements.
//
// Everything here is known either when the program is compiled (predefined macros such as
// __cplusplus and __VERSION__, std::endian, std::numeric_limits) or when it runs
// (std::thread::hardware_concurrency): no file needs to be read and nothing has to be guessed.
#include <bit>
#include <climits>
#include <limits>
#include <string>
#include <thread>

#include "tinytorch/errors.h"
#include "tinytorch/setup.h"

namespace tt {

StudentIdentity my_identity() {
    //! BEGIN SOLUTION
    //! HINT: return {"Your Name", "yourhandle", "you@example.com"};
    //! HINT: the handle is 2-32 characters from a-z, 0-9, '_' and '-' (it is shown on leaderboards);
    //! HINT: tt::identity_problems(my_identity()) lists anything that is still wrong.
    return {"Ada Lovelace", "ada", "ada@example.com"};
    //! END SOLUTION
}

SystemReport system_check() {
    SystemReport report;
    //! BEGIN SOLUTION
    //! HINT: every compiler predefines macros: __clang__ (and __clang_major__, ...) for Clang,
    //! HINT: __GNUC__ (and __GNUC_MINOR__, __GNUC_PATCHLEVEL__) for GCC, __VERSION__ for both.
    //! HINT: Check __clang__ first: Clang also defines __GNUC__ to look like GCC.
    //! HINT: report.compiler should read like "GCC 12.2.0" or "Clang 16.0.6".
#if defined(__clang__)
    report.compiler = "Clang " + std::to_string(__clang_major__) + "." + std::to_string(__clang_minor__) + "." +
                      std::to_string(__clang_patchlevel__);
#elif defined(__GNUC__)
    report.compiler = std::string("GCC ") + __VERSION__;  // GCC's __VERSION__ is just "12.2.0"
#elif defined(__VERSION__)
    report.compiler = std::string("unknown compiler ") + __VERSION__;
#else
    report.compiler = "unknown compiler";
#endif
    //! HINT: __cplusplus is a long: 201703 for C++17, 202002 for C++20.
    report.cpp_standard = __cplusplus;
    //! HINT: sizeof gives bytes; CHAR_BIT (from <climits>) is the number of bits in a byte.
    report.pointer_bits = static_cast<int>(sizeof(void*) * CHAR_BIT);
    //! HINT: C++20 has std::endian (from <bit>): compare std::endian::native with std::endian::little.
    report.little_endian = std::endian::native == std::endian::little;
    //! HINT: std::numeric_limits<float>::is_iec559 says "IEEE-754"; also make sure float has 4 bytes.
    report.ieee754_float = std::numeric_limits<float>::is_iec559 && sizeof(float) == 4;
    //! HINT: std::thread::hardware_concurrency() (from <thread>); it may return 0 when unknown.
    report.hardware_threads = std::thread::hardware_concurrency();
    //! END SOLUTION
    return report;
}

}  // namespace tt
