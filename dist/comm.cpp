// dist/comm.cpp — see comm.hpp. The only file of lensflow that includes mpi.h (and nccl.h).
#include "dist/comm.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#if LENSFLOW_HAVE_MPI
#include <mpi.h>
#endif
#if LENSFLOW_HAVE_CUDA
#include <cuda_runtime.h>
#endif
#if LENSFLOW_HAVE_NCCL
#include <nccl.h>
#endif

namespace lensflow::dist {
namespace {

Comm g_world;  // size 1 until Environment starts MPI

// Launchers set these in every process they start (Open MPI, PMIx/Slurm, MPICH's Hydra and PMI).
bool under_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

// The number of processes the launcher started (0 when it does not say): processes that do not
// form one MPI job (a build without MPI under mpirun) would each do the whole job and write the
// same files.
long launched_processes() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* n = std::getenv(v)) return std::strtol(n, nullptr, 10);
  return 0;
}

void refuse_lone_copies(int size) {
  const long n = launched_processes();
  if (n <= size) return;
  std::fprintf(stderr,
               "lensflow: error: started as %ld processes that do not form one MPI job (%s): each would do "
               "the whole job and write the same files; %s\n",
               n, LENSFLOW_HAVE_MPI ? "MPI saw fewer" : "this build has no MPI",
               LENSFLOW_HAVE_MPI ? "check the launcher's MPI set-up" :
                                   "rebuild with LENSFLOW_ENABLE_MPI and an MPI library, or start one process");
  std::exit(2);
}

#if LENSFLOW_HAVE_MPI
bool g_mpi_started = false;

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING] = {0};
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw std::runtime_error(std::string("MPI ") + what + " failed: " + msg);
}

// MPI counts are int: large arrays go in pieces.
constexpr std::size_t kPiece = std::size_t(1) << 28;

template <class T>
void allreduce(T* v, std::size_t n, MPI_Datatype type, MPI_Op op) {
  for (std::size_t i = 0; i < n; i += kPiece)
    check(MPI_Allreduce(MPI_IN_PLACE, v + i, int(std::min(kPiece, n - i)), type, op, MPI_COMM_WORLD),
          "allreduce");
}
#endif

#if LENSFLOW_HAVE_NCCL
ncclComm_t g_nccl = nullptr;  // created at the first device all-reduce, destroyed with MPI

void check_nccl(ncclResult_t rc, const char* what) {
  if (rc != ncclSuccess) throw std::runtime_error(std::string("NCCL ") + what + " failed: " + ncclGetErrorString(rc));
}
#endif

}  // namespace

Environment::Environment(int* argc, char*** argv) {
#if LENSFLOW_HAVE_MPI
  if (!under_launcher()) return;
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "init");
  g_mpi_started = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_world.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &g_world.size_);
  refuse_lone_copies(g_world.size_);
#if LENSFLOW_HAVE_CUDA
  // Ranks sharing a node take different GPUs: the node-local rank (MPI-3 shared-memory split).
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_world.rank_, MPI_INFO_NULL, &node);
  int local = 0, n_dev = 0;
  MPI_Comm_rank(node, &local);
  MPI_Comm_free(&node);
  if (cudaGetDeviceCount(&n_dev) == cudaSuccess && n_dev > 1) cudaSetDevice(local % n_dev);
#endif
#else
  (void)argc;
  (void)argv;
  if (under_launcher()) refuse_lone_copies(1);
#endif
}

Environment::~Environment() {
#if LENSFLOW_HAVE_NCCL
  if (g_nccl) ncclCommDestroy(g_nccl);
  g_nccl = nullptr;
#endif
#if LENSFLOW_HAVE_MPI
  if (g_mpi_started) MPI_Finalize();
  g_mpi_started = false;
  g_world = Comm{};
#endif
}

const Comm& world() { return g_world; }

const Comm& self() {
  static const Comm single;
  return single;
}

int fail(const char* program, const std::string& message) {
  const Comm& c = world();
  if (c.size() == 1) {
    std::fprintf(stderr, "%s: error: %s\n", program, message.c_str());
    return 1;
  }
  std::fprintf(stderr, "%s: error (rank %d of %d): %s\n", program, c.rank(), c.size(), message.c_str());
  c.abort(1);
}

Range share(int64_t n, int rank, int size) {
  if (size < 1 || rank < 0 || rank >= size) throw std::invalid_argument("dist::share: rank outside [0, size)");
  const int64_t base = n / size, extra = n % size;
  Range r;
  r.lo = rank * base + std::min<int64_t>(rank, extra);
  r.hi = r.lo + base + (rank < extra ? 1 : 0);
  return r;
}

#if LENSFLOW_HAVE_MPI
void Comm::allreduce_sum(float* v, std::size_t n) const {
  if (size_ > 1) allreduce(v, n, MPI_FLOAT, MPI_SUM);
}
void Comm::allreduce_sum(double* v, std::size_t n) const {
  if (size_ > 1) allreduce(v, n, MPI_DOUBLE, MPI_SUM);
}
void Comm::allreduce_sum(int64_t* v, std::size_t n) const {
  if (size_ > 1) allreduce(v, n, MPI_INT64_T, MPI_SUM);
}
void Comm::allreduce_max(double* v, std::size_t n) const {
  if (size_ > 1) allreduce(v, n, MPI_DOUBLE, MPI_MAX);
}
void Comm::barrier() const {
  if (size_ > 1) check(MPI_Barrier(MPI_COMM_WORLD), "barrier");
}
void Comm::broadcast(std::vector<char>& bytes, int root) const {
  if (size_ == 1) return;
  uint64_t n = bytes.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, root, MPI_COMM_WORLD), "broadcast");
  bytes.resize(n);
  for (std::size_t i = 0; i < n; i += kPiece)
    check(MPI_Bcast(bytes.data() + i, int(std::min<std::size_t>(kPiece, n - i)), MPI_CHAR, root, MPI_COMM_WORLD),
          "broadcast");
}
void Comm::send(const std::vector<char>& bytes, int dest, int tag) const {
  const uint64_t n = bytes.size();
  check(MPI_Send(&n, 1, MPI_UINT64_T, dest, tag, MPI_COMM_WORLD), "send");
  for (std::size_t i = 0; i < n; i += kPiece)
    check(MPI_Send(bytes.data() + i, int(std::min<std::size_t>(kPiece, n - i)), MPI_CHAR, dest, tag, MPI_COMM_WORLD),
          "send");
}
std::vector<char> Comm::recv(int source, int tag) const {
  uint64_t n = 0;
  check(MPI_Recv(&n, 1, MPI_UINT64_T, source, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "receive");
  std::vector<char> bytes(n);
  for (std::size_t i = 0; i < n; i += kPiece)
    check(MPI_Recv(bytes.data() + i, int(std::min<std::size_t>(kPiece, n - i)), MPI_CHAR, source, tag, MPI_COMM_WORLD,
                   MPI_STATUS_IGNORE),
          "receive");
  return bytes;
}
void Comm::abort(int code) const {
  std::fflush(stdout);
  std::fflush(stderr);
  if (size_ > 1) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}
#else
void Comm::allreduce_sum(float*, std::size_t) const {}
void Comm::allreduce_sum(double*, std::size_t) const {}
void Comm::allreduce_sum(int64_t*, std::size_t) const {}
void Comm::allreduce_max(double*, std::size_t) const {}
void Comm::barrier() const {}
void Comm::broadcast(std::vector<char>&, int) const {}
void Comm::send(const std::vector<char>&, int, int) const {
  throw std::logic_error("dist: send without MPI (a single process has no other rank)");
}
std::vector<char> Comm::recv(int, int) const {
  throw std::logic_error("dist: receive without MPI (a single process has no other rank)");
}
void Comm::abort(int code) const {
  std::fflush(stdout);
  std::fflush(stderr);
  std::exit(code);
}
#endif

#if LENSFLOW_HAVE_MPI
struct WorkCounter::Window {
  MPI_Win win;
  int64_t* base = nullptr;
};

WorkCounter::WorkCounter(const Comm& comm) : comm_(comm) {
  if (comm_.size() == 1) return;
  win_ = new Window;
  const MPI_Aint bytes = comm_.is_root() ? MPI_Aint(sizeof(int64_t)) : 0;
  check(MPI_Win_allocate(bytes, sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &win_->base, &win_->win),
        "window allocation");
  if (comm_.is_root()) *win_->base = 0;
  check(MPI_Barrier(MPI_COMM_WORLD), "barrier");
  check(MPI_Win_lock_all(0, win_->win), "window lock");
}

WorkCounter::~WorkCounter() {
  if (!win_) return;
  if (std::uncaught_exceptions() == 0) {
    MPI_Win_unlock_all(win_->win);
    MPI_Win_free(&win_->win);
  }
  delete win_;
}

int64_t WorkCounter::next() {
  if (!win_) return local_++;
  const int64_t one = 1;
  int64_t got = 0;
  check(MPI_Fetch_and_op(&one, &got, MPI_INT64_T, 0, 0, MPI_SUM, win_->win), "fetch-and-add");
  check(MPI_Win_flush(0, win_->win), "window flush");
  return got;
}
#else
struct WorkCounter::Window {};
WorkCounter::WorkCounter(const Comm& comm) : comm_(comm) {}
WorkCounter::~WorkCounter() = default;
int64_t WorkCounter::next() { return local_++; }
#endif

bool Comm::device_allreduce() const {
#if LENSFLOW_HAVE_NCCL
  return true;
#else
  return size_ == 1;
#endif
}

void Comm::allreduce_sum_device(float* v_dev, std::size_t n, void* stream) const {
  if (size_ == 1) return;
#if LENSFLOW_HAVE_NCCL
  if (!g_nccl) {  // one communicator over the ranks' GPUs: rank 0's id, broadcast over MPI
    ncclUniqueId id;
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "unique id");
    std::vector<char> b(reinterpret_cast<char*>(&id), reinterpret_cast<char*>(&id) + sizeof id);
    broadcast(b, 0);
    std::copy(b.begin(), b.end(), reinterpret_cast<char*>(&id));
    check_nccl(ncclCommInitRank(&g_nccl, size_, id, rank_), "communicator init");
  }
  check_nccl(ncclAllReduce(v_dev, v_dev, n, ncclFloat, ncclSum, g_nccl, static_cast<cudaStream_t>(stream)),
             "all-reduce");
#else
  (void)v_dev;
  (void)n;
  (void)stream;
  throw std::logic_error("dist: device all-reduce needs NCCL (stage the array through the host)");
#endif
}

}  // namespace lensflow::dist
