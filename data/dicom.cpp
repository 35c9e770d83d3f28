#include "data/dicom.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <mutex>
#include <vector>

#ifdef RADIUS_WITH_DICOM
#include <dcmtk/config/osconfig.h>  // first, as DCMTK requires
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmimgle/dipixel.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>
#endif

namespace radius {

bool is_dicom(std::span<const uint8_t> bytes) {
  return bytes.size() >= 132 && std::memcmp(bytes.data() + 128, "DICM", 4) == 0;
}

#ifndef RADIUS_WITH_DICOM

bool dicom_supported() { return false; }

Image decode_dicom(std::span<const uint8_t>, const VoiWindow&, const std::string& name) {
  throw DecodeError(name, DecodeFailure::unsupported, "DICOM file, but this build has no DICOM support (DCMTK; RADIUS_DICOM)");
}

DicomTags read_dicom_tags(std::span<const uint8_t>, const std::string& name) {
  throw DecodeError(name, DecodeFailure::unsupported, "DICOM file, but this build has no DICOM support (DCMTK; RADIUS_DICOM)");
}

void write_dicom(const std::vector<uint16_t>&, int, int, const DicomWriteOptions&, const std::string& path) {
  throw std::runtime_error(path + ": cannot write DICOM: this build has no DICOM support (DCMTK; RADIUS_DICOM)");
}

#else

bool dicom_supported() { return true; }

namespace {

// DCMTK's codecs are global registrations, done once; its log (warnings on stderr for
// every odd file) is silenced: our DecodeErrors report what matters, per file.
void init_dcmtk() {
  static std::once_flag once;
  std::call_once(once, [] {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();       // JPEG baseline, extended, lossless
    DJLSDecoderRegistration::registerCodecs();     // JPEG-LS
    DcmRLEDecoderRegistration::registerCodecs();   // RLE
    DJEncoderRegistration::registerCodecs();       // JPEG lossless, for write_dicom
  });
}

std::string text_of(DcmItem& item, const DcmTagKey& tag) {
  OFString s;
  if (item.findAndGetOFStringArray(tag, s).bad()) return "";
  return s.c_str();
}

// The transfer syntax as its UID (from the file meta information), for the JPEG 2000 test.
// Also asked after a failed parse, when the element's length may be a lie that DCMTK would
// allocate on reading the value: a UID has at most 64 characters, so longer is no UID. The
// length is the one the header states (getLengthField): a string's getLength() loads the
// value to measure it, and allocated the 4 GB a 190-byte input claimed (fuzz_dicom).
std::string transfer_syntax_uid(DcmFileFormat& file) {
  DcmElement* element = nullptr;
  OFString uid;
  if (file.getMetaInfo()->findAndGetElement(DCM_TransferSyntaxUID, element).bad() || !element ||
      element->getLengthField() > 64 || element->getOFString(uid, 0).bad())
    return "";
  return uid.c_str();
}

// JPEG 2000 (PS3.5 A.4.4: .4.90 to .4.93) and High-Throughput JPEG 2000 (.4.201 to .4.203).
bool is_jpeg2000(const std::string& uid) {
  static const char* const uids[] = {"1.2.840.10008.1.2.4.90",  "1.2.840.10008.1.2.4.91",  "1.2.840.10008.1.2.4.92",
                                     "1.2.840.10008.1.2.4.93",  "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
                                     "1.2.840.10008.1.2.4.203"};
  return std::any_of(std::begin(uids), std::end(uids), [&](const char* u) { return uid == u; });
}

std::string jpeg2000_message(const std::string& uid) {
  return "JPEG 2000 compressed (transfer syntax " + uid +
         "): DCMTK has no JPEG 2000 decoder; convert the file first (e.g. gdcmconv --raw from GDCM)";
}

// DCMTK reads an element longer than maxReadLength lazily, through a stream "factory" that
// can reopen the input later, and it is on that path that it checks the length against the
// bytes left. A plain buffer stream has no factory, so DCMTK allocated whatever length a
// header claimed: 2.2 GB for a 977-byte input (found by fuzz_dicom). This stream over the
// same bytes offers a factory, so a lying length is an error ("Invalid stream") instead.
class SeekableMemoryStream : public DcmInputBufferStream {
 public:
  explicit SeekableMemoryStream(std::span<const uint8_t> bytes) : bytes_(bytes) {
    setBuffer(bytes.data(), offile_off_t(bytes.size()));
    setEos();
  }
  DcmInputStreamFactory* newFactory() const override;

 private:
  std::span<const uint8_t> bytes_;
};

// Reopens the bytes at one offset (the start of a lazily read value).
class MemoryStreamFactory : public DcmInputStreamFactory {
 public:
  MemoryStreamFactory(std::span<const uint8_t> bytes, offile_off_t offset) : bytes_(bytes), offset_(offset) {}
  DcmInputStream* create() const override {
    auto* stream = new SeekableMemoryStream(bytes_);
    stream->skip(offset_);
    return stream;
  }
  DcmInputStreamFactory* clone() const override { return new MemoryStreamFactory(*this); }
  // The kind DCMTK's own reopenable streams report (it asks, it does not cast).
  DcmInputStreamFactoryType ident() const override { return DFT_DcmInputFileStreamFactory; }

 private:
  std::span<const uint8_t> bytes_;
  offile_off_t offset_;
};

DcmInputStreamFactory* SeekableMemoryStream::newFactory() const { return new MemoryStreamFactory(bytes_, tell()); }

// The DcmFileFormat reads values lazily from `bytes`, which must outlive it.
std::unique_ptr<DcmFileFormat> parse(std::span<const uint8_t> bytes, const std::string& name) {
  if (bytes.empty()) throw DecodeError(name, DecodeFailure::empty_file, "the file has no bytes");
  if (!is_dicom(bytes)) throw DecodeError(name, DecodeFailure::unknown_format, "no DICM marker at byte 128");
  init_dcmtk();
  SeekableMemoryStream stream(bytes);
  auto file = std::make_unique<DcmFileFormat>();
  file->transferInit();
  const OFCondition status = file->read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  file->transferEnd();
  if (status.bad()) {
    if (is_jpeg2000(transfer_syntax_uid(*file)))  // the reason that matters more than the parse error
      throw DecodeError(name, DecodeFailure::unsupported, jpeg2000_message(transfer_syntax_uid(*file)));
    // The data ran out: DCMTK wanted more bytes (EC_StreamNotifyClient), or an element's
    // length points past the end ("Invalid stream" with every byte consumed).
    const bool cut = status == EC_StreamNotifyClient || (status == EC_InvalidStream && stream.eos());
    throw DecodeError(name, cut ? DecodeFailure::truncated : DecodeFailure::corrupt,
                      std::string(cut ? "the data ends early (DCMTK: " : "DCMTK cannot parse it (") + status.text() +
                          ")");
  }
  return file;
}

// Does DCMTK's JPEG decoder get past its first step on these bytes? Before decoding it finds
// the bit depth by walking the fragment's markers (DJCodecDecoder::scanJpegDataForBitDepth,
// DCMTK 3.6.7): a frame header (SOF) or a byte pair that is no marker ends the walk; a
// segment marker is skipped by its length, RST, SOI, EOI and the reserved markers by two
// bytes, a fill byte (FF FF) by one; and TEM (FF 01) by nothing, so the walk never ends
// (found by fuzz_dicom). This is the same walk, bounded: false where DCMTK's would not end.
bool jpeg_depth_scan_ends(const uint8_t* d, uint64_t length) {
  uint64_t at = 0;
  while (at + 4 < length) {
    if (d[at] != 0xFF) return true;  // no marker: the walk gives up
    const uint8_t m = d[at + 1];
    if (m == 0x01) return false;  // TEM: the walk stays here
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) return true;  // SOF: the depth
    if (m == 0xC4 || m == 0xC8 || m == 0xCC || (m >= 0xDA && m <= 0xFE))
      at += (uint64_t(d[at + 2]) << 8 | d[at + 3]) + 2;  // a segment and its length
    else if ((m >= 0xD0 && m <= 0xD9) || (m > 0x02 && m <= 0xBF))
      at += 2;  // RST, SOI, EOI, reserved
    else if (m == 0xFF)
      at += 1;  // a fill byte
    else
      return true;  // FF 00, FF 02: a syntax error ends the walk
  }
  return true;
}

// The JPEG transfer syntaxes DCMTK's dcmjpeg decodes: 1.2.840.10008.1.2.4.50 to .70
// (JPEG-LS is .80/.81, JPEG 2000 .90 and up).
bool is_dcmjpeg_syntax(const std::string& uid) {
  const std::string prefix = "1.2.840.10008.1.2.4.";
  if (uid.rfind(prefix, 0) != 0 || uid.size() != prefix.size() + 2) return false;
  const std::string tail = uid.substr(prefix.size());
  return std::isdigit(static_cast<unsigned char>(tail[0])) && std::isdigit(static_cast<unsigned char>(tail[1])) &&
         std::stoi(tail) >= 50 && std::stoi(tail) <= 70;
}

// Refuses JPEG pixel data on which DCMTK's decoder would never return (jpeg_depth_scan_ends),
// checking every fragment (DCMTK walks the first of the frame; TEM never occurs in valid
// JPEG data, so no valid file is refused).
void check_jpeg_fragments(DcmDataset& ds, const std::string& xfer_uid, const std::string& name) {
  if (!is_dcmjpeg_syntax(xfer_uid)) return;
  DcmElement* element = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, element).bad() || !element || element->ident() != EVR_PixelData) return;
  auto* pixel_data = OFstatic_cast(DcmPixelData*, element);
  E_TransferSyntax original = EXS_Unknown;
  const DcmRepresentationParameter* parameter = nullptr;
  pixel_data->getOriginalRepresentationKey(original, parameter);
  DcmPixelSequence* fragments = nullptr;
  if (pixel_data->getEncapsulatedRepresentation(original, parameter, fragments).bad() || !fragments) return;
  for (unsigned long i = 1; i < fragments->card(); ++i) {  // item 0: the offset table
    DcmPixelItem* item = nullptr;
    Uint8* data = nullptr;
    if (fragments->getItem(item, i).bad() || !item || item->getUint8Array(data).bad() || !data) continue;
    if (!jpeg_depth_scan_ends(data, item->getLength()))
      throw DecodeError(name, DecodeFailure::corrupt,
                        "JPEG fragment " + std::to_string(i) + " holds a TEM marker (FF 01) before its frame header, "
                        "on which DCMTK's JPEG decoder would never return");
  }
}

// The modality values (step 1) from DCMTK's decoded samples, as doubles.
template <typename T>
void append_values(const void* data, size_t n, std::vector<double>& out) {
  const T* p = static_cast<const T*>(data);
  out.assign(p, p + n);
}

std::vector<double> sample_values(const DiPixel& pixel, size_t n) {
  std::vector<double> v;
  switch (pixel.getRepresentation()) {
    case EPR_Uint8: append_values<Uint8>(pixel.getData(), n, v); break;
    case EPR_Sint8: append_values<Sint8>(pixel.getData(), n, v); break;
    case EPR_Uint16: append_values<Uint16>(pixel.getData(), n, v); break;
    case EPR_Sint16: append_values<Sint16>(pixel.getData(), n, v); break;
    case EPR_Uint32: append_values<Uint32>(pixel.getData(), n, v); break;
    case EPR_Sint32: append_values<Sint32>(pixel.getData(), n, v); break;
  }
  return v;
}

VoiFunction voi_function(DcmItem& ds) {
  const std::string f = text_of(ds, DCM_VOILUTFunction);
  if (f == "LINEAR_EXACT") return VoiFunction::linear_exact;
  if (f == "SIGMOID") return VoiFunction::sigmoid;
  return VoiFunction::linear;  // LINEAR, absent or unknown: the standard's default
}

// Step 2 with the file's first VOI LUT (C.11.2.1.1): descriptor [entries (0 = 65536),
// first input value mapped, bits per entry]; inputs below the first value take the first
// entry, above the last the last entry. Entries scale from 0..2^bits-1 onto 0..65535.
bool apply_voi_lut(DcmItem& ds, bool signed_input, std::vector<double>& v, const std::string& name) {
  DcmItem* lut = nullptr;
  if (ds.findAndGetSequenceItem(DCM_VOILUTSequence, lut, 0).bad() || !lut) return false;
  Uint16 entries = 0, first = 0, bits = 0;
  const Uint16* data = nullptr;
  unsigned long count = 0;
  if (lut->findAndGetUint16(DCM_LUTDescriptor, entries, 0).bad() ||
      lut->findAndGetUint16(DCM_LUTDescriptor, first, 1).bad() ||
      lut->findAndGetUint16(DCM_LUTDescriptor, bits, 2).bad() ||
      lut->findAndGetUint16Array(DCM_LUTData, data, &count).bad() || !data)
    throw DecodeError(name, DecodeFailure::corrupt, "VOI LUT without a readable descriptor or data");
  const size_t n = entries == 0 ? 65536 : entries;
  if (count < n || bits < 1 || bits > 16)
    throw DecodeError(name, DecodeFailure::corrupt,
                      "VOI LUT descriptor promises " + std::to_string(n) + " entries of " + std::to_string(bits) +
                          " bits, the data holds " + std::to_string(count));
  const double first_input = signed_input ? double(int16_t(first)) : double(first);
  const double scale = 65535.0 / double((1u << bits) - 1);
  for (double& x : v) {
    const double k = std::clamp(std::floor(x - first_input), 0.0, double(n - 1));
    x = std::min(double(data[size_t(k)]), double((1u << bits) - 1)) * scale;
  }
  return true;
}

}  // namespace

DicomTags read_dicom_tags(std::span<const uint8_t> bytes, const std::string& name) {
  const auto file = parse(bytes, name);
  DcmDataset& ds = *file->getDataset();
  DicomTags t;
  t.manufacturer = text_of(ds, DCM_Manufacturer);
  t.modality = text_of(ds, DCM_Modality);
  t.body_part = text_of(ds, DCM_BodyPartExamined);
  t.photometric = text_of(ds, DCM_PhotometricInterpretation);
  Uint16 bits = 0;
  if (ds.findAndGetUint16(DCM_BitsStored, bits).good()) t.bits_stored = bits;
  t.pixel_spacing = text_of(ds, DCM_PixelSpacing);
  if (t.pixel_spacing.empty()) t.pixel_spacing = text_of(ds, DCM_ImagerPixelSpacing);
  return t;
}

Image decode_dicom(std::span<const uint8_t> bytes, const VoiWindow& window, const std::string& name) {
  const auto file = parse(bytes, name);
  DcmDataset& ds = *file->getDataset();
  if (!ds.tagExists(DCM_PixelData)) {
    const std::string sop = text_of(ds, DCM_SOPClassUID);
    const char* sop_name = sop.empty() ? nullptr : dcmFindNameOfUID(sop.c_str());
    throw DecodeError(name, DecodeFailure::unsupported,
                      "no pixel data: not an image (SOP class " + (sop_name ? std::string(sop_name) : sop) + ")");
  }
  const std::string xfer_uid = transfer_syntax_uid(*file);
  if (is_jpeg2000(xfer_uid))
    throw DecodeError(name, DecodeFailure::unsupported, jpeg2000_message(xfer_uid));
  Sint32 frames = 1;
  if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1)
    throw DecodeError(name, DecodeFailure::unsupported,
                      "multi-frame object (" + std::to_string(frames) + " frames): one radiograph per file expected");
  const std::string photometric = text_of(ds, DCM_PhotometricInterpretation);
  if (photometric != "MONOCHROME1" && photometric != "MONOCHROME2")
    throw DecodeError(name, DecodeFailure::unsupported,
                      "photometric interpretation '" + photometric + "': only grey (MONOCHROME1/2) images are read");
  Uint16 rows = 0, columns = 0, samples = 1, bits_allocated = 0, pixel_representation = 0;
  if (ds.findAndGetUint16(DCM_Rows, rows).bad() || ds.findAndGetUint16(DCM_Columns, columns).bad() ||
      ds.findAndGetUint16(DCM_BitsAllocated, bits_allocated).bad())
    throw DecodeError(name, DecodeFailure::corrupt, "Rows, Columns or Bits Allocated missing");
  ds.findAndGetUint16(DCM_SamplesPerPixel, samples);
  ds.findAndGetUint16(DCM_PixelRepresentation, pixel_representation);
  if (samples != 1)
    throw DecodeError(name, DecodeFailure::corrupt, std::to_string(samples) + " samples per pixel in a grey image");
  check_image_dimensions(columns, rows, name);
  if (bits_allocated != 8 && bits_allocated != 16 && bits_allocated != 32)
    throw DecodeError(name, DecodeFailure::unsupported, "Bits Allocated " + std::to_string(bits_allocated));

  // Native (uncompressed) pixel data must hold every pixel: DCMTK would pad a short one
  // with zeros and warn, and we refuse to train on silent black bands.
  const E_TransferSyntax xfer = ds.getOriginalXfer();
  if (!DcmXfer(xfer).isEncapsulated()) {
    DcmElement* pixel_data = nullptr;
    const uint64_t need = uint64_t(rows) * columns * (bits_allocated / 8);
    if (ds.findAndGetElement(DCM_PixelData, pixel_data).bad() || !pixel_data || pixel_data->getLength() < need)
      throw DecodeError(name, DecodeFailure::truncated,
                        "pixel data holds " + std::to_string(pixel_data ? pixel_data->getLength() : 0) + " bytes; " +
                            std::to_string(rows) + " x " + std::to_string(columns) + " x " +
                            std::to_string(bits_allocated / 8) + " need " + std::to_string(need));
  }

  check_jpeg_fragments(ds, xfer_uid, name);

  // Step 1, modality: slope and intercept applied here, in double (DCMTK would store the
  // rescaled values as integers); a Modality LUT Sequence is left to DCMTK.
  const bool modality_lut = ds.tagExists(DCM_ModalityLUTSequence);
  DicomImage dcm(&ds, xfer, modality_lut ? 0 : CIF_IgnoreModalityTransformation, 0, 1);
  if (dcm.getStatus() != EIS_Normal)
    throw DecodeError(name, DecodeFailure::corrupt,
                      std::string("DCMTK cannot decode the pixels: ") + DicomImage::getString(dcm.getStatus()));
  const DiPixel* pixel = dcm.getInterData();
  const size_t n = size_t(rows) * columns;
  if (!pixel || pixel->getData() == nullptr || pixel->getCount() < n)
    throw DecodeError(name, DecodeFailure::corrupt, "DCMTK decoded fewer pixels than Rows x Columns");
  std::vector<double> v = sample_values(*pixel, n);
  if (!modality_lut) {
    Float64 slope = 1, intercept = 0;  // absent: the identity (DCMTK zeroes the output when a tag is missing)
    if (ds.findAndGetFloat64(DCM_RescaleSlope, slope).bad()) slope = 1;
    if (ds.findAndGetFloat64(DCM_RescaleIntercept, intercept).bad()) intercept = 0;
    if (!std::isfinite(slope) || slope == 0 || !std::isfinite(intercept))
      throw DecodeError(name, DecodeFailure::corrupt, "rescale slope 0 or not a number");
    if (slope != 1 || intercept != 0)
      for (double& x : v) x = x * slope + intercept;
  }

  // Step 2, VOI: onto 0..65535 (the windows' formulas: data/voi_window.h, PS3.3 C.11.2.1.2).
  constexpr double kMax = 65535;
  Float64 file_center = 0, file_width = 0;
  const bool file_window = ds.findAndGetFloat64(DCM_WindowCenter, file_center, 0).good() &&
                           ds.findAndGetFloat64(DCM_WindowWidth, file_width, 0).good() && file_width >= 1 &&
                           std::isfinite(file_center) && std::isfinite(file_width);
  if (window.set()) {
    for (double& x : v) x = voi_window(x, window.center, window.width, VoiFunction::linear, kMax);
  } else if (file_window) {
    const VoiFunction f = voi_function(ds);
    for (double& x : v) x = voi_window(x, file_center, file_width, f, kMax);
  } else if (!apply_voi_lut(ds, pixel_representation == 1 && !modality_lut, v, name)) {
    // No window anywhere: the image's own range, min -> 0 and max -> 65535 (a flat image -> 0).
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    const double min = *lo, range = *hi - *lo;
    for (double& x : v) x = range > 0 ? (x - min) / range * kMax : 0;
  }

  // Step 3, MONOCHROME1: the lowest value is white; invert so that bright is dense throughout.
  const bool invert = photometric == "MONOCHROME1";
  Image img(columns, rows, 1, 16);
  for (size_t i = 0; i < n; ++i) {
    const double y = invert ? kMax - v[i] : v[i];
    img.pixels16[i] = uint16_t(std::lround(std::clamp(y, 0.0, kMax)));
  }
  return img;
}

void write_dicom(const std::vector<uint16_t>& stored, int width, int height, const DicomWriteOptions& o,
                 const std::string& path) {
  const auto fail = [&](const std::string& why) { return std::runtime_error(path + ": cannot write DICOM: " + why); };
  if (width < 1 || height < 1 || width > 65535 || height > 65535 || stored.size() != size_t(width) * size_t(height))
    throw fail("need width x height stored values, each side 1..65535");
  if (o.bits_stored < 1 || o.bits_stored > 16) throw fail("bits stored must be 1..16");
  init_dcmtk();
  DcmFileFormat file;
  DcmDataset& ds = *file.getDataset();
  // UIDs from the content, so the same call writes the same bytes (radius synth promises
  // byte-identical data sets per seed): "2.25." + an integer is the UID form PS3.5 B.2 gives
  // for values made without a registered root; here a 64-bit FNV-1a of the stored values,
  // the size and the options' flags, one salt per level.
  uint64_t hash = 0xcbf29ce484222325ull;
  const auto mix = [&hash](uint64_t v) {
    for (int k = 0; k < 8; ++k, v >>= 8) hash = (hash ^ (v & 0xFF)) * 0x100000001b3ull;
  };
  for (uint16_t v : stored) mix(v);
  mix(uint64_t(width) << 32 | uint32_t(height));
  mix(uint64_t(o.bits_stored) << 8 | uint64_t(o.monochrome1) << 1 | uint64_t(o.jpeg_lossless));
  const auto uid = [&](uint64_t salt) { return "2.25." + std::to_string(hash ^ salt); };
  OFCondition ok = EC_Normal;
  const auto put = [&](const DcmTagKey& tag, const std::string& value) {
    if (!value.empty() && ok.good()) ok = ds.putAndInsertString(tag, value.c_str());
  };
  const auto put16 = [&](const DcmTagKey& tag, int value) {
    if (ok.good()) ok = ds.putAndInsertUint16(tag, Uint16(value));
  };
  const auto number = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return std::string(buf);
  };
  put(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
  put(DCM_SOPInstanceUID, uid(1));
  put(DCM_StudyInstanceUID, uid(2));
  put(DCM_SeriesInstanceUID, uid(3));
  put(DCM_Modality, o.modality);
  put(DCM_Manufacturer, o.manufacturer);
  put(DCM_BodyPartExamined, o.body_part);
  put(DCM_PixelSpacing, o.pixel_spacing);
  put(DCM_PhotometricInterpretation, o.monochrome1 ? "MONOCHROME1" : "MONOCHROME2");
  put16(DCM_SamplesPerPixel, 1);
  put16(DCM_Rows, height);
  put16(DCM_Columns, width);
  put16(DCM_BitsAllocated, 16);
  put16(DCM_BitsStored, o.bits_stored);
  put16(DCM_HighBit, o.bits_stored - 1);
  put16(DCM_PixelRepresentation, 0);
  if (o.rescale_slope != 1 || o.rescale_intercept != 0) {
    put(DCM_RescaleSlope, number(o.rescale_slope));
    put(DCM_RescaleIntercept, number(o.rescale_intercept));
  }
  if (o.window.set()) {
    put(DCM_WindowCenter, number(o.window.center));
    put(DCM_WindowWidth, number(o.window.width));
  }
  if (ok.good()) ok = ds.putAndInsertUint16Array(DCM_PixelData, stored.data(), static_cast<unsigned long>(stored.size()));
  if (ok.bad()) throw fail(ok.text());
  E_TransferSyntax xfer = EXS_LittleEndianExplicit;
  if (o.jpeg_lossless) {
    xfer = EXS_JPEGProcess14SV1;
    const DJ_RPLossless lossless;  // predictor 1, no point transform
    ok = ds.chooseRepresentation(xfer, &lossless);
    if (ok.bad() || !ds.canWriteXfer(xfer)) throw fail(std::string("JPEG lossless encoding failed: ") + ok.text());
  }
  const std::string partial = path + ".partial";
  ok = file.saveFile(partial.c_str(), xfer);
  if (ok.bad()) {
    std::remove(partial.c_str());
    throw fail(ok.text());
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) {
    std::remove(partial.c_str());
    throw fail(ec.message());
  }
}

#endif  // RADIUS_WITH_DICOM

}  // namespace radius
